"""World regions: their names, the places that point at them, and tagging a headline."""
