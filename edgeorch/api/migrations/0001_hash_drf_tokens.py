"""Earlier versions kept people's API keys in plaintext (DRF's ``authtoken_token`` table). Each one becomes a
knox key with the same value (its SHA-512 digest and its first 15 characters are stored, as knox stores its
own), so scripts go on working with the key they have; then the plaintext table is dropped and DRF's authtoken
app forgotten. A database that never had the table (a new one) has nothing to move."""

from django.db import migrations

from knox.crypto import hash_token
from knox.settings import CONSTANTS

TABLE = "authtoken_token"


def hash_plaintext_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if TABLE not in connection.introspection.table_names():
        return
    AuthToken = apps.get_model("knox", "AuthToken")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {TABLE}")
        rows = cursor.fetchall()
    for key, user_id, created in rows:
        digest = hash_token(key)
        AuthToken(digest=digest, token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH], user_id=user_id).save()
        AuthToken.objects.filter(pk=digest).update(created=created)  # auto_now_add set it to now
    schema_editor.execute(schema_editor.sql_delete_table % {"table": schema_editor.quote_name(TABLE)})
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = %s", ["authtoken"])


class Migration(migrations.Migration):
    dependencies = [("knox", "0009_extend_authtoken_field")]
    operations = [migrations.RunPython(hash_plaintext_tokens, migrations.RunPython.noop)]
