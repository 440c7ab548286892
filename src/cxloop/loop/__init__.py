"""Close the loop with customers: the knowledge base that suggests replies."""
