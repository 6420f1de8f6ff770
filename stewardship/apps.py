from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StewardshipConfig(AppConfig):
    name = "stewardship"
    verbose_name = _("Stewardship")

    def ready(self) -> None:
        from rcu import hooks
        from stewardship.selectors.decisions import decisions_for_pack
        from stewardship.services.erasure import COVERAGE, person_erasing_stewardship
        from stewardship.services.sync import candidates_sync

        hooks.register("review_pairs_found", candidates_sync)
        hooks.register("customer_decisions", decisions_for_pack)
        hooks.register("person_erasing", person_erasing_stewardship)
        hooks.erasure_covers(COVERAGE)
