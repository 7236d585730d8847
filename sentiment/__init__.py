"""The sentiment corpus and the word vectors of lstm_gru_text.py (text_data.py)."""
