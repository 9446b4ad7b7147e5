"""One module per published corpus, each with a constants header and build() -> DatasetDict."""
