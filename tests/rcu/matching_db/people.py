"""Rows for matching tests: the same people as several sources know them."""

JEANNE = {"first_name": "Jeanne", "last_name": "Lefèvre", "birth_date": "1980-04-03",
          "email": "jeanne.lefevre@orange.fr", "mobile": "06 12 34 56 78",
          "address_line1": "12 rue de la Paix", "postcode": "75002", "city": "Paris"}
# Jeanne again, as the e-shop knows her: accents lost, names swapped, a new address.
JEANNE_ESHOP = {"first_name": "LEFEVRE", "last_name": "Jeanne", "birth_date": "1980-04-03",
                "email": "Jeanne.Lefevre@Orange.fr", "mobile": "+33 6 12 34 56 78",
                "postcode": "69003", "city": "Lyon"}
# Her husband: same surname, address and landline, another first name and birth date.
PAUL = {"first_name": "Paul", "last_name": "Lefèvre", "birth_date": "1978-11-21",
        "phone": "01 42 00 00 01", "address_line1": "12 rue de la Paix", "postcode": "75002",
        "city": "Paris"}
JEANNE_LANDLINE = {**JEANNE, "phone": "01 42 00 00 01"}
# Only a name and a town: could be Jeanne, needs a steward.
JEANNE_SPARSE = {"first_name": "Jeanne", "last_name": "Lefevre", "postcode": "75002", "city": "Paris"}
MARC = {"first_name": "Marc", "last_name": "Dubois", "birth_date": "1965-07-14",
        "email": "marc.dubois@free.fr", "postcode": "33000", "city": "Bordeaux"}
MARC_CRM = {"first_name": "Marc", "last_name": "Dubois", "birth_date": "14/07/1965",
            "email": "marc.dubois@free.fr"}
# Another Marc Dubois: born elsewhere and later, in Lyon.
MARC_LYON = {"first_name": "Marc", "last_name": "Dubois", "birth_date": "1971-02-02",
             "mobile": "07 70 11 22 33", "postcode": "69003", "city": "Lyon"}
