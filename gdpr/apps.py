from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GdprConfig(AppConfig):
    name = "gdpr"
    verbose_name = _("GDPR")

    def ready(self) -> None:
        from gdpr.demo import demo_seed
        from gdpr.demo_register import register_demo_seed
        from gdpr.selectors.consents import consent_columns
        from gdpr.services import consent_erasure
        from gdpr.services.access_log import access_log_record
        from gdpr.services.consents import (
            consents_projection,
            customers_regrouped_follow,
            records_statements_record,
            statement_targets,
        )
        from gdpr.services.erasure import COVERAGE, person_erasing_gdpr
        from gdpr.services.erasure_requests import erasure_delivered
        from gdpr.services.quarantine import COVERAGE as QUARANTINE_COVERAGE
        from gdpr.services.quarantine import person_erasing_quarantine, records_screen_quarantine
        from rcu import hooks

        hooks.register("personal_data_read", access_log_record)
        hooks.register("demo_seeded", demo_seed)
        hooks.register("person_erasing", person_erasing_gdpr)
        hooks.erasure_covers(COVERAGE)
        hooks.register("erasure_delivered", erasure_delivered)
        # The re-import quarantine: hashes kept at erasure, incoming rows screened.
        hooks.register("person_erasing", person_erasing_quarantine)
        hooks.register("records_screen", records_screen_quarantine)
        hooks.erasure_covers(QUARANTINE_COVERAGE)
        hooks.register("demo_seeded", register_demo_seed)
        # Consents: targets of field mappings, statements of imports, following merges,
        # carried by events, erased with the person.
        hooks.register("statement_targets", statement_targets)
        hooks.register("records_statements", records_statements_record)
        hooks.register("customers_regrouped", customers_regrouped_follow)
        hooks.register("customer_projection", consents_projection)
        hooks.projection_covers(["consents"])
        hooks.register("projection_columns", consent_columns)
        hooks.register("person_erasing", consent_erasure.person_erasing_consents)
        hooks.erasure_covers(consent_erasure.COVERAGE)
