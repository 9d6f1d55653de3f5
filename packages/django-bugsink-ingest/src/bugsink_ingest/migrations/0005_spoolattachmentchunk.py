from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bugsink_ingest", "0004_spoolsweep"),
    ]

    operations = [
        migrations.CreateModel(
            name="SpoolAttachmentChunk",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("ref", models.CharField(max_length=64)),
                ("seq", models.PositiveIntegerField()),
                ("data", models.BinaryField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("ref", "seq"), name="bi_spool_attachment_chunk")
                ],
            },
        ),
    ]
