"""FAQ knowledge: the bank of FAQs, its index, hybrid retrieval, the answer decision, evaluation."""
