"""Inserting many new rows and getting their ids back, without the ORM's per-value compilation.

Django's bulk_create passes every value of every row through the SQL compiler (field_as_sql,
prepare_value, get_db_prep_save): for the digest's batches of 100 events x 24 columns that was
about a third of the digest's CPU in a profile. Here the statement is built once per batch, and
only the field types whose values need converting for the database go through the field.
"""

from django.db import connections, router

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


def insert_returning_pks(objs, batch_size=200):
    """INSERT model instances that are not saved yet (one model, an auto-increment primary key,
    no auto_now fields) and set their primary keys, as bulk_create does."""
    if not objs:
        return
    model = type(objs[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    meta = model._meta
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
