"""How a person is named on pages, in messages, in Excel and in reports: one rule."""


def person_name(user, missing: str = "—") -> str:
    """Their full name (马海燕), else their log-in name; ``missing`` for nobody (a deleted user,
    an automatic step)."""
    if user is None:
        return missing
    return user.get_full_name() or user.username
