"""Answerers turn a question and its retrieved passages into an Answer with verified citations."""
