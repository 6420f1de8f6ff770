"""Hand-picked French words that Faker's lists lack.

Faker's fr_FR corpus has classic first names and the 400 most common surnames; real customer
bases also hold compound first names, particles, Breton, Portuguese, Maghrebi, West-African,
Turkish and Vietnamese names, and the street names every French town has.
"""

from __future__ import annotations

COMPOUND_FIRST_NAMES_MALE: tuple[str, ...] = (
    "Jean-Pierre", "Jean-Claude", "Jean-Luc", "Jean-François", "Jean-Marc", "Jean-Paul",
    "Jean-Michel", "Jean-Louis", "Jean-Jacques", "Jean-Baptiste", "Jean-Christophe",
    "Jean-Philippe", "Pierre-Yves", "Pierre-Alain", "Marc-Antoine", "Paul-Henri", "Jean-Noël",
    "Jean-Yves", "Jean-Charles", "Jean-Sébastien",
)

COMPOUND_FIRST_NAMES_FEMALE: tuple[str, ...] = (
    "Marie-Claire", "Marie-Christine", "Anne-Sophie", "Marie-Thérèse", "Marie-Hélène",
    "Anne-Marie", "Marie-France", "Marie-Laure", "Marie-Pierre", "Marie-José", "Marie-Noëlle",
    "Anne-Laure", "Marie-Odile", "Marie-Line", "Marie-Agnès", "Marie-Claude", "Marie-Annick",
    "Anne-Claire", "Marie-Ange", "Marie-Françoise",
)

MODERN_FIRST_NAMES_MALE: tuple[str, ...] = (
    "Lucas", "Hugo", "Enzo", "Nathan", "Léo", "Gabriel", "Raphaël", "Jules", "Maxime",
    "Kévin", "Mathis", "Théo", "Quentin", "Romain", "Anthony", "Jérémy", "Florian", "Sylvain",
    "Cédric", "Fabrice", "Pascal", "Hervé", "Didier", "Lionel", "Ludovic", "Mickaël",
    "Damien", "Yannick", "Loïc", "Gaël", "Ronan", "Erwan", "Killian", "Baptiste", "Clément",
    "Alexis", "Valentin", "Benoît", "Frédéric", "Sébastien", "Jérôme", "Arnaud", "Grégory",
    "Mathéo", "Noah", "Timéo", "Aurélien", "Bastien", "Corentin", "Dylan", "Joël", "Gaëtan",
)

MODERN_FIRST_NAMES_FEMALE: tuple[str, ...] = (
    "Léa", "Chloé", "Manon", "Emma", "Jade", "Louna", "Lola", "Inès", "Lina", "Mila",
    "Camille", "Sarah", "Laura", "Marion", "Mélanie", "Sandrine", "Nathalie", "Stéphanie",
    "Karine", "Séverine", "Aurélie", "Émilie", "Noémie", "Maëlle", "Maëlys", "Anaëlle",
    "Bérénice", "Gaëlle", "Solène", "Océane", "Morgane", "Justine", "Ophélie", "Coralie",
    "Élodie", "Laëtitia", "Mégane", "Clara", "Zoé", "Romane", "Héloïse", "Lucile",
    "Agnès", "Sylvie", "Christelle", "Ghislaine", "Josiane", "Huguette", "Yvette", "Éliane",
)

WORLD_FIRST_NAMES_MALE: tuple[str, ...] = (
    "Mohamed", "Mehdi", "Karim", "Rachid", "Yacine", "Sofiane", "Nabil", "Samir", "Mamadou",
    "Moussa", "Ibrahima", "Youssef", "Bilal", "Hamza", "Ali", "Ahmed", "Abdelkader", "Omar",
    "Minh", "Duc", "Thanh", "Mehmet", "Murat", "Emre", "João", "José", "Manuel", "Antonio",
    "Francisco", "Luis", "Paulo", "Giovanni", "Marco", "Stefan", "Piotr", "Adama", "Boubacar",
)

WORLD_FIRST_NAMES_FEMALE: tuple[str, ...] = (
    "Fatima", "Nadia", "Amina", "Aïcha", "Leïla", "Samira", "Karima", "Yasmina", "Myriam",
    "Fatoumata", "Aminata", "Mariam", "Linh", "Thi", "Aylin", "Elif", "Zeynep", "Maria",
    "Ana", "Sofia", "Carla", "Nour", "Salma", "Kenza", "Naïma", "Rokia", "Awa", "Mei",
)

PARTICLE_SURNAMES: tuple[str, ...] = (
    "Le Bihan", "Le Floch", "Le Guen", "Le Corre", "Le Meur", "Le Berre", "Le Gall",
    "Le Goff", "Le Roux", "Le Borgne", "Le Page", "Le Bris", "D'Almeida", "D'Angelo",
    "D'Aubigny", "de Villiers", "de La Fontaine", "de Lattre", "de Saint-Just", "du Pont",
    "Du Bois", "Dos Santos", "Da Silva", "Da Costa", "De Oliveira", "De Sousa", "Le Cam",
    "La Rosa", "Van den Berghe", "N'Diaye", "N'Guessan", "El Amrani", "Ben Salah",
)

ACCENTED_SURNAMES: tuple[str, ...] = (
    "Lefèvre", "Lemaître", "Hébert", "Bénard", "Noël", "Çelik", "Öztürk", "Frémont",
    "Ménard", "Thébault", "Gérôme", "Bréhaut", "Chênevert", "Pélissier", "Rivière", "Fèvre",
    "Dupré", "Géraud", "Mérieux", "Lefrançois", "Desprès", "Sénéchal", "Laënnec", "Boëlle",
)

WORLD_SURNAMES: tuple[str, ...] = (
    "Benali", "Haddad", "Bouzid", "Belkacem", "Mansouri", "Benmoussa", "Cherif", "Amrani",
    "Hamidi", "Brahimi", "Mebarki", "Zerrouki", "Diop", "Ndiaye", "Sow", "Camara", "Keita",
    "Koné", "Traoré", "Coulibaly", "Touré", "Diarra", "Nguyen", "Tran", "Pham", "Truong",
    "Huynh", "Vo", "Zhang", "Wang", "Chen", "Lin", "Yilmaz", "Kaya", "Demir", "Sahin",
    "Kowalski", "Nowak", "Kovac", "Popescu", "Ferreira", "Rodrigues", "Gonçalves",
)

BRETON_SURNAMES: tuple[str, ...] = (
    "Kerbrat", "Kerjean", "Guivarc'h", "Quéré", "Tanguy", "Morvan", "Le Hir", "Kervella",
    "Jézéquel", "Cadiou", "Pennec", "Riou", "Salaün", "Quéméner", "Le Duff", "Prigent",
)

STREET_TYPES: tuple[tuple[str, int], ...] = (
    ("rue", 55), ("avenue", 14), ("boulevard", 6), ("chemin", 6), ("impasse", 5),
    ("allée", 5), ("route", 4), ("place", 3), ("quai", 1), ("square", 1),
)

# How till clerks and agents shorten street types (La Poste's own abbreviations).
STREET_TYPE_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "rue": ("R", "RUE"),
    "avenue": ("AV", "AVE", "AVEN"),
    "boulevard": ("BD", "BLD", "BVD"),
    "chemin": ("CHE", "CHEM", "CH"),
    "impasse": ("IMP",),
    "allée": ("ALL", "ALLEE"),
    "route": ("RTE",),
    "place": ("PL",),
    "quai": ("QU", "QUAI"),
    "square": ("SQ",),
}

STREET_NAMES: tuple[str, ...] = (
    "de la République", "Victor Hugo", "Jean Jaurès", "du Général de Gaulle", "Pasteur",
    "de la Gare", "des Écoles", "de l'Église", "du Moulin", "des Lilas", "Gambetta",
    "Jules Ferry", "Carnot", "Voltaire", "de la Paix", "du Stade", "des Acacias",
    "Émile Zola", "de la Liberté", "Anatole France", "Jean Moulin", "Léon Blum",
    "des Tilleuls", "du Château", "Saint-Martin", "des Roses", "des Peupliers",
    "du Maréchal Foch", "du Maréchal Leclerc", "de Verdun", "du 8 Mai 1945",
    "du 11 Novembre 1918", "de la Fontaine", "des Jardins", "de Paris", "Nationale",
    "des Chênes", "des Vignes", "du Commerce", "de la Mairie", "Louis Pasteur", "Paul Bert",
    "Aristide Briand", "Georges Clemenceau", "d'Alsace-Lorraine", "de Bretagne",
    "de Lattre de Tassigny", "des Fleurs", "du Port", "de la Mer", "des Sports",
    "Albert Camus", "Pierre Curie", "Marie Curie", "Charles de Gaulle", "Henri Barbusse",
    "Gabriel Péri", "Édouard Vaillant", "Maurice Ravel", "Hector Berlioz", "Alphonse Daudet",
    "Jean de La Fontaine", "des Mimosas", "des Cerisiers", "des Prés", "de la Forêt",
    "du Bois", "des Pins", "de la Croix", "Antoine de Saint-Exupéry", "Molière", "Jean Racine",
    "du Centre", "de Strasbourg", "de Lyon", "de la Poste", "des Marronniers", "des Bleuets",
    "des Glycines", "des Alouettes", "des Hirondelles", "de la Source", "du Levant", "du Midi",
    "des Rosiers", "Lamartine", "Montaigne", "Berthelot", "Condorcet", "Danton", "Jean Mermoz",
    "Roger Salengro", "Sadi Carnot", "Thiers", "Saint-Exupéry", "des Tanneurs",
    "des Remparts", "du Vieux Marché", "de l'Abbaye", "Saint-Jacques", "Sainte-Anne",
    "du Docteur Schweitzer", "Frédéric Mistral", "de Normandie", "des Cordeliers",
    "de la Libération", "de l'Hôtel de Ville", "Notre-Dame", "des Capucins", "Félix Faure",
    "du Président Wilson", "Henri Dunant", "Pierre Brossolette", "Lazare Carnot",
    "de la Résistance", "des Platanes", "des Érables", "du Four", "des Noyers", "Racine",
)

ADDRESS_COMPLEMENTS: tuple[str, ...] = (
    "Appartement 12", "Appt 4", "Bât. B", "Bâtiment C", "Résidence Les Pins",
    "Résidence du Parc", "Escalier A", "3e étage", "Porte 21", "Rés. Les Tilleuls",
    "Lotissement Les Chênes", "Bât A Appt 31", "Apt 103", "2ème étage gauche",
    "Résidence Le Clos Fleuri", "Hameau de la Fontaine", "Lieu-dit Le Bourg", "Boîte 7",
)

# Weighted by rough market share among French private e-mail addresses.
EMAIL_DOMAINS: tuple[tuple[str, int], ...] = (
    ("gmail.com", 30), ("orange.fr", 14), ("hotmail.fr", 10), ("free.fr", 8),
    ("yahoo.fr", 6), ("sfr.fr", 5), ("laposte.net", 5), ("wanadoo.fr", 5), ("outlook.fr", 4),
    ("hotmail.com", 4), ("icloud.com", 3), ("neuf.fr", 2), ("bbox.fr", 2), ("live.fr", 1),
    ("aol.com", 1),
)

# Misspelt domains agents really type; a matcher that insists on exact e-mails misses them.
EMAIL_DOMAIN_TYPOS: dict[str, str] = {
    "gmail.com": "gmial.com",
    "orange.fr": "orage.fr",
    "hotmail.fr": "hotmial.fr",
    "free.fr": "fre.fr",
    "yahoo.fr": "yaho.fr",
    "laposte.net": "laposte.fr",
    "wanadoo.fr": "wanado.fr",
    "hotmail.com": "hotmail.con",
    "outlook.fr": "outlok.fr",
}

# First names that are not French usage, however Faker's lists carry them.
FIRST_NAMES_TO_SKIP: frozenset[str] = frozenset(
    {
        "Nath", "Maggie", "Susan", "Alexandria", "Alexandrie", "Lucy", "Margaret", "Arnaude",
        "Olivie", "Célina", "Anastasie", "Alex", "William", "Isaac", "Margaud", "Susanne",
        "Adélaïde", "Luce",
    }
)
