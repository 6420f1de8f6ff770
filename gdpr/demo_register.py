"""The demo's register of processing activities: a French retailer's customer hub.

Called once the demo base is seeded (`rcu.hooks.demo_seeded`); safe to run again: an
activity already in the register (by name) is left as the DPO may have edited it.
"""

from __future__ import annotations

from typing import Any

from gdpr.models import LegalBasis, ProcessingActivity
from gdpr.services.register import processing_activity_create
from rcu.models import SourceSystem
from rcu.services.changes import Actor

CONTROLLER = "Maison Lumière SAS, 12 rue de la Paix, 75002 Paris (démo)"
SECURITY = (
    "Accès par rôle et par service, double authentification des administrateurs et du DPO, "
    "journalisation de toute consultation de données personnelles, chiffrement des échanges "
    "(TLS) et des sauvegardes, hébergement en France."
)

# In French: the register of a French retailer, as its DPO keeps it.
DEMO_ACTIVITIES: list[dict[str, Any]] = [
    {
        "name": "Gestion de la relation client",
        "purpose": "Tenir une fiche fiable par client entre le CRM, le site marchand, les caisses "
                   "et le service client : commandes, livraisons, factures, service après-vente.",
        "legal_basis": LegalBasis.CONTRACT,
        "legal_basis_detail": "Exécution du contrat de vente et des mesures précontractuelles.",
        "data_categories": "Identité (civilité, nom, prénom, date de naissance), coordonnées "
                           "(e-mail, téléphones, adresse postale), numéros client de chaque source.",
        "people_categories": "Clients et prospects ayant commandé ou demandé un devis.",
        "recipients": "Services commercial, client et logistique ; le transporteur pour les livraisons.",
        "retention": "Durée de la relation commerciale, puis 3 ans à compter du dernier contact.",
        "sources": [],
    },
    {
        "name": "Prospection commerciale par e-mail",
        "purpose": "Envoyer lettres d'information et offres par e-mail aux clients qui l'ont accepté.",
        "legal_basis": LegalBasis.CONSENT,
        "legal_basis_detail": "Case à cocher à la création du compte et en magasin (art. L34-5 du "
                              "code des postes et des communications électroniques) ; retrait par "
                              "un lien dans chaque e-mail.",
        "data_categories": "Nom, prénom, adresse e-mail, consentement et sa date, catégories d'achats.",
        "people_categories": "Clients ayant consenti.",
        "recipients": "Service marketing ; prestataire d'e-mailing (sous-traitant).",
        "transfers_outside_eu": "Support technique du prestataire d'e-mailing aux États-Unis.",
        "transfer_safeguards": "Certification du prestataire au Data Privacy Framework UE-États-Unis ; "
                               "clauses contractuelles types à défaut.",
        "retention": "3 ans à compter du dernier contact venant du client ; preuve du consentement "
                     "conservée 5 ans.",
        "sources": ["crm", "eshop"],
    },
    {
        "name": "Programme de fidélité",
        "purpose": "Gérer la carte de fidélité : cumul de points sur les achats en magasin et en "
                   "ligne, envoi des avantages.",
        "legal_basis": LegalBasis.CONTRACT,
        "legal_basis_detail": "Conditions générales du programme acceptées à l'adhésion.",
        "data_categories": "Identité, coordonnées, numéro de carte, achats et solde de points.",
        "people_categories": "Adhérents du programme de fidélité.",
        "recipients": "Service marketing, personnel des magasins (solde uniquement).",
        "retention": "Durée de l'adhésion, puis 2 ans d'inactivité avant clôture et anonymisation.",
        "sources": ["caisse", "eshop"],
    },
    {
        "name": "Prévention de la fraude",
        "purpose": "Détecter la fraude au paiement et les comptes en double ouverts pour abuser "
                   "des offres.",
        "legal_basis": LegalBasis.LEGITIMATE_INTERESTS,
        "legal_basis_detail": "Intérêt du distributeur à se protéger de la fraude (considérant 47) ; "
                              "revue humaine avant tout refus.",
        "data_categories": "Identité, coordonnées, adresses de livraison, incidents de commande et "
                           "de paiement, scores de détection des doublons.",
        "people_categories": "Clients ayant commandé en ligne.",
        "recipients": "Équipe de lutte contre la fraude ; prestataire de paiement.",
        "retention": "1 an à compter de l'alerte ; 5 ans pour une fraude avérée (action en justice).",
        "sources": ["eshop"],
    },
    {
        "name": "Obligations comptables",
        "purpose": "Conserver les factures et les pièces comptables comme la loi l'impose.",
        "legal_basis": LegalBasis.LEGAL_OBLIGATION,
        "legal_basis_detail": "Art. L123-22 du code de commerce.",
        "data_categories": "Nom, prénom, adresse de facturation, factures et paiements.",
        "people_categories": "Clients ayant acheté.",
        "recipients": "Service comptable, commissaires aux comptes, administration fiscale sur demande.",
        "retention": "10 ans à compter de la clôture de l'exercice (art. L123-22 du code de commerce).",
        "sources": ["caisse", "eshop"],
    },
    {
        "name": "Service client",
        "purpose": "Répondre aux questions et réclamations des clients par téléphone, e-mail et "
                   "en magasin.",
        "legal_basis": LegalBasis.CONTRACT,
        "legal_basis_detail": "Exécution du contrat de vente et des garanties légales.",
        "data_categories": "Identité, coordonnées, la demande et ses réponses.",
        "people_categories": "Clients et personnes contactant le service client.",
        "recipients": "Service client ; centre d'appels (sous-traitant).",
        "retention": "3 ans à compter de la clôture de la demande.",
        "sources": ["service_client"],
    },
    {
        "name": "Exercice des droits des personnes",
        "purpose": "Traiter les demandes d'accès, de rectification, d'effacement, de limitation, "
                   "de portabilité et d'opposition (RGPD, art. 15 à 21).",
        "legal_basis": LegalBasis.LEGAL_OBLIGATION,
        "legal_basis_detail": "RGPD, art. 12 à 22.",
        "data_categories": "Identifiants donnés par la personne, justificatif d'identité (supprimé à "
                           "la clôture de la demande), suivi de la demande et courriers.",
        "people_categories": "Personnes exerçant leurs droits.",
        "recipients": "Le DPO.",
        "retention": "L'année de la demande et 5 ans de plus (preuve de la réponse).",
        "sources": [],
    },
]


def register_demo_seed(*, acting_user: Actor) -> list[ProcessingActivity]:
    """Record the demo activities not yet in the register; returns those created."""
    existing = set(ProcessingActivity.objects.values_list("name", flat=True))
    sources = {s.code: s for s in SourceSystem.objects.all()}
    created = []
    for spec in DEMO_ACTIVITIES:
        if spec["name"] in existing:
            continue
        values = {k: v for k, v in spec.items() if k != "sources"}
        values.setdefault("controller", CONTROLLER)
        values.setdefault("security_measures", SECURITY)
        created.append(processing_activity_create(
            values=values, sources=[sources[c] for c in spec["sources"] if c in sources],
            acting_user=acting_user,
        ))
    return created
