"""Customers: identity resolution (merge and split with an audit) and the customer 360."""
