"""Text analytics: language, sentiment, emotion, topics, intent and keywords of free text.

Traditional Chinese first, Simplified Chinese and English beside it; any other language
is reported as unsupported rather than guessed. Models ship inside the package (trained
by ``scripts/train_text_models.py`` from public corpora) and run on the CPU.

The entry point for library users is :func:`cxloop.text.scoring.score_texts`.
"""
