"""Model rows read with plain SQL and converted as the ORM converts them.

For the roll-ups (``reports.rollup.rollups``), which read many rows, where the ORM's per-row machinery
costs more than the database takes to answer. The request path uses the ORM.
The converters are the ORM's own (backend and field), so values come back as the ORM gives them:
``Decimal`` and ``date`` on SQLite, parsed JSON on both backends.
"""


def converters_for(fields, connection, alias=None):
    """``{index: (functions, col)}`` for the fields whose database values need converting on
    ``connection``, in the order given (columns read under the table ``alias``)."""
    result = {}
    for index, field in enumerate(fields):
        col = field.get_col(alias or field.model._meta.db_table)
        functions = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if functions:
            result[index] = (functions, col)
    return result


def convert(values, converters, connection):
    """Apply ``converters`` (from ``converters_for``) to the list ``values`` in place; return it."""
    for index, (functions, col) in converters.items():
        value = values[index]
        for function in functions:
            value = function(value, col, connection)
        values[index] = value
    return values
