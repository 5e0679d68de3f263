"""A recipe group whose import fails, as a broken install would."""

raise ImportError("demo_recipes.broken needs a package that is not installed")
