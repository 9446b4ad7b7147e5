"""A tiny causal LM made locally (no download): a 2-layer Llama with random weights and a byte-level BPE tokenizer
trained on the package's own prompt templates, with a chat template. It exercises the real transformers, lm-eval, TRL
and serving code paths in seconds on CPU; its outputs are noise, which is what the tests want to survive."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

# A plain chat template (role headers, one end-of-sequence token per turn) so chat APIs, TRL's `messages` format and
# `add_generation_prompt` work; Jinja as transformers expects it.
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def make_tiny_llama(out: Path, *, seed: int = 0, extra_texts: list[str] | None = None) -> Path:
    """Write the model and tokenizer to ``out`` (``from_pretrained(out)`` loads both); returns ``out``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    texts = [p.read_text("utf-8") for p in Path(str(resources.files("deepimagine_data") / "templates")).glob("*/*")]
    texts += list(extra_texts or []) + ["DECISION: (0.25, 0.75)", "<|system|> <|user|> <|assistant|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600, special_tokens=["<s>", "</s>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="</s>")
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(out)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(out)
    return out


if __name__ == "__main__":
    import sys

    print(make_tiny_llama(Path(sys.argv[1] if len(sys.argv) > 1 else "tiny-llama")))
