# One word for learning the model: "training" (was "estimation" in places).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rcu", "0017_survivorship_rules"),
    ]

    operations = [
        migrations.RenameField("matchsettings", "model_estimated_at", "model_trained_at"),
        migrations.RenameField("historicalmatchsettings", "model_estimated_at", "model_trained_at"),
        *(
            operation
            for model in ("matchsettings", "historicalmatchsettings")
            for operation in (
                migrations.AlterField(
                    model_name=model,
                    name="model_trained_at",
                    field=models.DateTimeField(blank=True, null=True, verbose_name="model trained"),
                ),
                migrations.AlterField(
                    model_name=model,
                    name="model_frozen",
                    field=models.BooleanField(
                        default=False,
                        help_text="When set, batch runs keep these parameters instead of retraining them.",
                        verbose_name="model frozen",
                    ),
                ),
            )
        ),
    ]
