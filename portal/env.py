"""Strict readers for environment variables.

Each reader names the variable and what it expects when the value is malformed, so a
mistyped deployment fails at start-up with a message an operator can act on.
"""

import os

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"true", "1", "yes", "on"}
FALSE_WORDS = {"false", "0", "no", "off"}


def env_str(name: str, default: str = "") -> str:
    """Return the variable's value, stripped, or the default when unset or empty."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean: true/false (also 1/0, yes/no, on/off); anything else is an error."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"环境变量 {name} 应为 true 或 false，当前值为 {raw!r}。 ({name} must be true or false.)"
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """Read an integer, optionally with a lower bound."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(
            f"环境变量 {name} 应为整数，当前值为 {raw!r}。 ({name} must be an integer.)"
        ) from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(
            f"环境变量 {name} 不能小于 {minimum}，当前值为 {value}。 ({name} must be >= {minimum}.)"
        )
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Read a comma-separated list; blanks are dropped."""
    raw = os.environ.get(name, "")
    items = [item.strip() for item in raw.split(",") if item.strip()]
    return items or list(default or [])


def env_url(name: str, *, schemes: tuple[str, ...], default: str = "") -> str:
    """Read a service URL and check its scheme (postgres://, redis://, ...)."""
    value = env_str(name, default)
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if value and scheme not in schemes:
        raise ImproperlyConfigured(
            f"环境变量 {name} 应为以 {' / '.join(s + '://' for s in schemes)} 开头的地址，当前值为 {value!r}。"
            f" ({name} must be a URL starting with {' or '.join(s + '://' for s in schemes)}.)"
        )
    return value


def env_url_list(name: str, *, schemes: tuple[str, ...]) -> list[str]:
    """Read a comma-separated list of service URLs, each with one of ``schemes``."""
    values = env_list(name)
    for value in values:
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme not in schemes:
            raise ImproperlyConfigured(
                f"环境变量 {name} 应为以逗号分隔的、以 {' / '.join(s + '://' for s in schemes)} 开头的地址，"
                f"其中 {value!r} 不是。 ({name} must be comma-separated URLs starting with"
                f" {' or '.join(s + '://' for s in schemes)}.)"
            )
    return values


def env_file(name: str) -> str:
    """Read the path of a file that must exist (a CA certificate, ...); empty when unset."""
    value = env_str(name)
    if value and not os.path.isfile(value):
        raise ImproperlyConfigured(
            f"环境变量 {name} 指向的文件 {value!r} 不存在或不是文件。 ({name} must name an existing file.)"
        )
    return value


def env_ldap_filter(name: str, default: str) -> str:
    """Read an LDAP search filter: one parenthesised expression with balanced parentheses."""
    value = env_str(name, default)
    depth = 0
    for position, char in enumerate(value):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0 or (depth == 0 and position < len(value) - 1):
            break
    else:
        if depth == 0 and value.startswith("("):
            return value
    raise ImproperlyConfigured(
        f"环境变量 {name} 应为一个用括号括起来的 LDAP 过滤条件，如 (objectClass=inetOrgPerson)，当前值为 {value!r}。"
        f" ({name} must be one LDAP filter in parentheses.)"
    )
