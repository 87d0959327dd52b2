"""Searcher tests (a package, so that ``test_contract`` does not clash with the schedulers')."""
