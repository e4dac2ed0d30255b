"""The contact form channel: a public page per client account, embeddable in an iframe."""
