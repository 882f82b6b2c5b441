"""regime: the 5-minute regime decision for every configured symbol."""
