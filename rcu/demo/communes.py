"""Real French communes with their real postcodes.

Matchers compare postcode and city together, so a demo address must never pair a postcode
with a city it does not belong to. The weight is a rough population share, so that Paris,
Lyon and Marseille (one row per arrondissement) hold most of the namesakes, as they do.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Commune:
    postcode: str
    city: str
    weight: int

    @property
    def department(self) -> str:
        return self.postcode[:2]

    @property
    def landline_prefix(self) -> str:
        """The 0X of landlines in this commune (01 Paris area … 05 south-west)."""
        return LANDLINE_PREFIX_BY_DEPARTMENT[self.department]


def _departments(prefix: str, codes: str) -> dict[str, str]:
    return dict.fromkeys(codes.split(), prefix)


LANDLINE_PREFIX_BY_DEPARTMENT: dict[str, str] = {
    **_departments("01", "75 77 78 91 92 93 94 95"),
    **_departments(
        "02", "14 18 22 27 28 29 35 36 37 41 44 45 49 50 53 56 61 72 76 85"
    ),
    **_departments(
        "03", "02 08 10 21 25 39 51 52 54 55 57 58 59 60 62 67 68 70 71 80 88 89 90"
    ),
    **_departments(
        "04", "01 03 04 05 06 07 11 13 15 20 26 30 34 38 42 43 48 63 66 69 73 74 83 84"
    ),
    **_departments("05", "09 12 16 17 19 23 24 31 32 33 40 46 47 64 65 79 81 82 86 87"),
}


def _arrondissements(city: str, postcodes: range, prefix: str, weight: int) -> list[Commune]:
    return [Commune(f"{prefix}{n:03d}", city, weight) for n in postcodes]


_TABLE = """
01000 Bourg-en-Bresse 4|01100 Oyonnax 2|02000 Laon 2|02100 Saint-Quentin 5|02200 Soissons 3
03000 Moulins 2|03100 Montluçon 4|03200 Vichy 3|04000 Digne-les-Bains 2|04100 Manosque 2
05000 Gap 4|05100 Briançon 1|06000 Nice 12|06100 Nice 10|06200 Nice 8|06300 Nice 6
06600 Antibes 5|06160 Antibes 2|06400 Cannes 5|06150 Cannes 2|06130 Grasse 5|06500 Menton 3
06800 Cagnes-sur-Mer 5|07000 Privas 1|07100 Annonay 2|07200 Aubenas 1
08000 Charleville-Mézières 5|08200 Sedan 2|09000 Foix 1|09100 Pamiers 2|10000 Troyes 6
11000 Carcassonne 5|11100 Narbonne 5|12000 Rodez 3|12100 Millau 2|13100 Aix-en-Provence 10
13090 Aix-en-Provence 4|13200 Arles 5|13300 Salon-de-Provence 4|13400 Aubagne 5|13500 Martigues 5
13600 La Ciotat 3|13800 Istres 4|14000 Caen 10|14100 Lisieux 2|14400 Bayeux 1|15000 Aurillac 3
16000 Angoulême 4|16100 Cognac 2|17000 La Rochelle 8|17100 Saintes 3|17200 Royan 2
17300 Rochefort 2|18000 Bourges 6|18100 Vierzon 3|19000 Tulle 1|19100 Brive-la-Gaillarde 5
20000 Ajaccio 6|20090 Ajaccio 2|20200 Bastia 4|20600 Bastia 2|21000 Dijon 15|21200 Beaune 2
22000 Saint-Brieuc 4|22300 Lannion 2|23000 Guéret 1|24000 Périgueux 3|24100 Bergerac 3
24200 Sarlat-la-Canéda 1|25000 Besançon 11|25200 Montbéliard 3|25300 Pontarlier 2
26000 Valence 6|26100 Romans-sur-Isère 3|26200 Montélimar 4|27000 Évreux 5|27200 Vernon 2
28000 Chartres 4|28100 Dreux 3|29000 Quimper 6|29200 Brest 13|29600 Morlaix 1|29900 Concarneau 2
30000 Nîmes 10|30900 Nîmes 5|30100 Alès 4|31000 Toulouse 8|31100 Toulouse 8|31200 Toulouse 8
31300 Toulouse 8|31400 Toulouse 8|31500 Toulouse 8|31170 Tournefeuille 3|31600 Muret 3
31700 Blagnac 2|31770 Colomiers 4|31800 Saint-Gaudens 1|32000 Auch 2|33000 Bordeaux 9
33100 Bordeaux 6|33200 Bordeaux 5|33300 Bordeaux 5|33800 Bordeaux 5|33120 Arcachon 1
33130 Bègles 3|33140 Villenave-d'Ornon 3|33400 Talence 4|33500 Libourne 2|33600 Pessac 6
33700 Mérignac 7|34000 Montpellier 10|34070 Montpellier 6|34080 Montpellier 5
34090 Montpellier 6|34200 Sète 4|34300 Agde 3|34400 Lunel 2|34500 Béziers 8|35000 Rennes 10
35200 Rennes 6|35700 Rennes 6|35300 Fougères 2|35400 Saint-Malo 5|35500 Vitré 2
36000 Châteauroux 4|37000 Tours 6|37100 Tours 4|37200 Tours 4|38000 Grenoble 9|38100 Grenoble 7
38200 Vienne 3|38500 Voiron 2|39000 Lons-le-Saunier 2|39100 Dole 2|40000 Mont-de-Marsan 3
40100 Dax 2|41000 Blois 5|42000 Saint-Étienne 10|42100 Saint-Étienne 7|42300 Roanne 3
43000 Le Puy-en-Velay 2|44000 Nantes 12|44100 Nantes 7|44200 Nantes 6|44300 Nantes 7|44400 Rezé 4
44600 Saint-Nazaire 7|44800 Saint-Herblain 5|45000 Orléans 8|45100 Orléans 4|45200 Montargis 1
46000 Cahors 2|46100 Figeac 1|47000 Agen 3|47200 Marmande 2|47300 Villeneuve-sur-Lot 2
48000 Mende 1|49000 Angers 9|49100 Angers 6|49300 Cholet 5|49400 Saumur 3|50000 Saint-Lô 2
50100 Cherbourg-en-Cotentin 8|51000 Châlons-en-Champagne 4|51100 Reims 18|51200 Épernay 2
52000 Chaumont 2|52100 Saint-Dizier 2|53000 Laval 5|54000 Nancy 6|54100 Nancy 4|54300 Lunéville 2
55000 Bar-le-Duc 1|55100 Verdun 2|56000 Vannes 5|56100 Lorient 6|56300 Pontivy 1|57000 Metz 6
57050 Metz 4|57070 Metz 2|57100 Thionville 4|57200 Sarreguemines 2|57600 Forbach 2|58000 Nevers 3
59000 Lille 14|59800 Lille 9|59100 Roubaix 10|59200 Tourcoing 10|59140 Dunkerque 9
59300 Valenciennes 4|59400 Cambrai 3|59500 Douai 4|59600 Maubeuge 3|59650 Villeneuve-d'Ascq 6
60000 Beauvais 5|60100 Creil 4|60200 Compiègne 4|61000 Alençon 3|62000 Arras 4|62100 Calais 7
62200 Boulogne-sur-Mer 4|62300 Lens 3|62400 Béthune 2|63000 Clermont-Ferrand 9
63100 Clermont-Ferrand 6|64000 Pau 8|64100 Bayonne 5|64200 Biarritz 3|65000 Tarbes 4
65100 Lourdes 1|66000 Perpignan 8|66100 Perpignan 4|67000 Strasbourg 10|67100 Strasbourg 8
67200 Strasbourg 10|67500 Haguenau 3|67600 Sélestat 2|67700 Saverne 1|68000 Colmar 7
68100 Mulhouse 7|68200 Mulhouse 4|70000 Vesoul 1|71000 Mâcon 3|71100 Chalon-sur-Saône 4
72000 Le Mans 9|72100 Le Mans 5|72200 La Flèche 1|73000 Chambéry 6|73100 Aix-les-Bains 3
73200 Albertville 2|74000 Annecy 13|74100 Annemasse 4|74200 Thonon-les-Bains 3
74400 Chamonix-Mont-Blanc 1|76000 Rouen 7|76100 Rouen 4|76200 Dieppe 3|76400 Fécamp 2
76600 Le Havre 17|77000 Melun 4|77100 Meaux 5|77200 Torcy 2|77300 Fontainebleau 2|77500 Chelles 5
78000 Versailles 8|78100 Saint-Germain-en-Laye 4|78200 Mantes-la-Jolie 4|78300 Poissy 4
78500 Sartrouville 5|78120 Rambouillet 3|79000 Niort 6|80000 Amiens 7|80080 Amiens 3
80090 Amiens 3|80100 Abbeville 2|81000 Albi 5|81100 Castres 4|82000 Montauban 6|83000 Toulon 8
83100 Toulon 5|83200 Toulon 4|83300 Draguignan 4|83400 Hyères 5|83500 La Seyne-sur-Mer 6
83600 Fréjus 5|83700 Saint-Raphaël 4|84000 Avignon 9|84100 Orange 3|84200 Carpentras 3
85000 La Roche-sur-Yon 5|85100 Les Sables-d'Olonne 4|86000 Poitiers 9|86100 Châtellerault 3
87000 Limoges 8|87100 Limoges 5|88000 Épinal 3|88100 Saint-Dié-des-Vosges 2|89000 Auxerre 3
89100 Sens 2|90000 Belfort 5|91000 Évry-Courcouronnes 6|91100 Corbeil-Essonnes 5
91120 Palaiseau 3|91150 Étampes 2|91300 Massy 5|91600 Savigny-sur-Orge 4|92000 Nanterre 9
92100 Boulogne-Billancourt 12|92110 Clichy 6|92120 Montrouge 5|92130 Issy-les-Moulineaux 7
92140 Clamart 5|92150 Suresnes 5|92160 Antony 6|92200 Neuilly-sur-Seine 6
92300 Levallois-Perret 6|92400 Courbevoie 8|92500 Rueil-Malmaison 8|92600 Asnières-sur-Seine 9
92700 Colombes 9|93100 Montreuil 11|93140 Bondy 5|93160 Noisy-le-Grand 7|93200 Saint-Denis 11
93270 Sevran 5|93300 Aubervilliers 9|93400 Saint-Ouen-sur-Seine 5|93500 Pantin 6
93600 Aulnay-sous-Bois 9|93700 Drancy 7|93800 Épinay-sur-Seine 6|94000 Créteil 9
94100 Saint-Maur-des-Fossés 8|94120 Fontenay-sous-Bois 5|94200 Ivry-sur-Seine 6
94300 Vincennes 5|94400 Vitry-sur-Seine 9|94500 Champigny-sur-Marne 8|94700 Maisons-Alfort 6
94800 Villejuif 6|95000 Cergy 6|95100 Argenteuil 11|95200 Sarcelles 6|95300 Pontoise 3
"""


def _parse(table: str) -> list[Commune]:
    communes = []
    for entry in table.replace("\n", "|").split("|"):
        entry = entry.strip()
        if not entry:
            continue
        postcode, rest = entry.split(" ", 1)
        city, weight = rest.rsplit(" ", 1)
        communes.append(Commune(postcode, city, int(weight)))
    return communes


COMMUNES: tuple[Commune, ...] = (
    *_arrondissements("Paris", range(1, 21), "75", 10),
    *_arrondissements("Lyon", range(1, 10), "69", 6),
    *_arrondissements("Marseille", range(1, 17), "13", 5),
    Commune("69100", "Villeurbanne", 15),
    Commune("69120", "Vaulx-en-Velin", 5),
    Commune("69200", "Vénissieux", 6),
    Commune("69300", "Caluire-et-Cuire", 4),
    Commune("69400", "Villefranche-sur-Saône", 4),
    Commune("69500", "Bron", 4),
    Commune("69800", "Saint-Priest", 4),
    *_parse(_TABLE),
)
