"""The outbox records row changes instead of key operations.

Operations still pending from before become row changes: a delete keeps its key; an
add becomes a save of its row, which the drain applies to every key the row
belongs to then, with the add's clock (so it cannot undo a later change).
"""

from django.db import migrations, models


def to_row_changes(apps, schema_editor):
    PendingOperation = apps.get_model("django_timak", "PendingOperation")
    db = schema_editor.connection.alias
    saves = {}
    for row in PendingOperation.objects.using(db).order_by("pk"):
        operation = row.operation
        model, _, pk = str(operation["id"]).partition(":")
        change = {"model": model, "pk": pk, "clock": operation["modified"], "previous": None, "keys": None}
        if operation["action"] == "delete":
            row.change = {**change, "action": "delete", "keys": [row.key]}
        elif (row.timeline, model, pk) in saves:
            row.delete()
            continue
        else:
            saves[(row.timeline, model, pk)] = row
            row.change = {**change, "action": "save"}
        row.save(update_fields=["change"])


class Migration(migrations.Migration):

    dependencies = [
        ("django_timak", "0003_timelinedelta"),
    ]

    operations = [
        migrations.AddField(model_name="pendingoperation", name="change", field=models.JSONField(null=True)),
        migrations.RunPython(to_row_changes, migrations.RunPython.noop),
        migrations.RemoveField(model_name="pendingoperation", name="key"),
        migrations.RemoveField(model_name="pendingoperation", name="operation"),
        migrations.AlterField(model_name="pendingoperation", name="change", field=models.JSONField()),
        migrations.AlterModelOptions(
            name="pendingoperation",
            options={"ordering": ["pk"], "verbose_name": "pending timeline change"},
        ),
    ]
