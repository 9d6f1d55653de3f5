"""Inserting many new rows (and getting their ids back), without the ORM's per-value compilation.

Django's bulk_create passes every value of every row through the SQL compiler (field_as_sql,
prepare_value, get_db_prep_save): for the digest's batches of 100 events x 24 columns that was
about a third of the digest's CPU in a profile. Here the statement is built once per batch, and
only the field types whose values need converting for the database go through the field.
"""

from django.db import connections, router
from django.db.models.constants import OnConflict

# Django's own fields whose values the drivers take as they are (int, str, bytes, bool, None).
# Everything else (datetimes, JSON, UUIDs, and any field class of a project's own, such as
# MicrosecondsField) goes through get_db_prep_save.
_PLAIN_TYPES = {
    "BigIntegerField",
    "BinaryField",
    "BooleanField",
    "CharField",
    "ForeignKey",
    "IntegerField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
}


def _plain(field) -> bool:
    return field.get_internal_type() in _PLAIN_TYPES and type(field).__module__.startswith(
        "django.db.models."
    )


def value_columns(fields):
    """[(attname, field or None)]: None where the value goes to the driver as it is."""
    return [(f.attname, None if _plain(f) else f) for f in fields]


def row_values(obj, columns, connection) -> list:
    return [
        getattr(obj, attname)
        if field is None
        else field.get_db_prep_save(getattr(obj, attname), connection)
        for attname, field in columns
    ]


def _target(model):
    """The alias `model` is written to, its connection, and the model's options."""
    alias = router.db_for_write(model)
    return alias, connections[alias], model._meta


def insert_returning_pks(objs, batch_size=200):
    """INSERT model instances that are not saved yet (one model, an auto-increment primary key,
    no auto_now fields) and set their primary keys, as bulk_create does."""
    if not objs:
        return
    model = type(objs[0])
    alias, connection, meta = _target(model)
    if not connection.features.can_return_rows_from_bulk_insert:
        model._default_manager.using(alias).bulk_create(objs, batch_size=batch_size)
        return
    fields = [f for f in meta.concrete_fields if f is not meta.pk]
    columns = value_columns(fields)
    quote = connection.ops.quote_name
    head = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    )
    row_marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    tail = f" RETURNING {quote(meta.pk.column)}"
    size = max(1, min(batch_size, connection.ops.bulk_batch_size(fields, objs)))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), size):
            chunk = objs[start : start + size]
            params = []
            for obj in chunk:
                params.extend(row_values(obj, columns, connection))
            cursor.execute(head + ", ".join([row_marks] * len(chunk)) + tail, params)
            for obj, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = alias


def insert_values(model, field_names, rows, *, ignore_conflicts=False, batch_size=200):
    """INSERT rows given as tuples of values for `field_names` (no model instances made, no
    primary keys read back); with `ignore_conflicts`, a row that breaks a unique constraint is
    skipped, as bulk_create(ignore_conflicts=True) does. The fields' Python defaults are not
    applied: name every column that has no database default."""
    if not rows:
        return
    _, connection, meta = _target(model)
    fields = [meta.get_field(name) for name in field_names]
    convert = [None if _plain(f) else f for f in fields]
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    quote = connection.ops.quote_name
    head = (
        f"{connection.ops.insert_statement(on_conflict=on_conflict)} {quote(meta.db_table)} "
        f"({', '.join(quote(f.column) for f in fields)}) VALUES "
    )
    row_marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    tail = connection.ops.on_conflict_suffix_sql(fields, on_conflict, None, None) or ""
    size = max(1, min(batch_size, connection.ops.bulk_batch_size(fields, rows)))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            params: list = []
            for row in chunk:
                params.extend(
                    value if field is None else field.get_db_prep_save(value, connection)
                    for value, field in zip(row, convert, strict=True)
                )
            cursor.execute(f"{head}{', '.join([row_marks] * len(chunk))} {tail}", params)


def update_by_pk(objs, field_names):
    """UPDATE the `field_names` of saved model instances of one model from their attributes: one
    statement run for all of them (executemany), where bulk_update builds a CASE per field and
    row through the ORM and save() compiles a statement per row."""
    if not objs:
        return
    _, connection, meta = _target(type(objs[0]))
    fields = [meta.get_field(name) for name in field_names]
    columns = value_columns(fields)
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(meta.db_table)} SET "
        f"{', '.join(f'{quote(f.column)} = %s' for f in fields)} WHERE {quote(meta.pk.column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[*row_values(obj, columns, connection), obj.pk] for obj in objs])
