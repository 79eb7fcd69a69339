"""Understanding: normalization, templates, the matcher, the classifier and the tiers."""
