"""The words of the scripted day: what people post about Kestrel (snack bars) and Voltra (phones).

Every text was checked against the embedded models (`tests/test_demo.py` scores them all):
chatter is not negative and asserts no harm, launch buzz is positive, complaints are negative
without a harm claim, and harm posts assert a health/safety claim. `{video}` is the address of
the video that starts the claim; `{n}` and `{city}` vary the texts a little.
"""

from __future__ import annotations

# (language, text). Kestrel is a snack-bar maker; Voltra makes phones. Both are fictional.
KESTREL_CHATTER: tuple[tuple[str, str], ...] = (
    ("en", "Kestrel oat bar and a banana before my morning run."),
    ("en", "Kestrel honey almond is still my favourite desk snack."),
    ("en", "The new Kestrel dark chocolate bars are on the shelf at my local shop in {city}."),
    ("en", "Packed {n} Kestrel bars for the hike this weekend."),
    ("en", "Kestrel bars and a coffee, the breakfast of busy people."),
    ("en", "Trying the Kestrel peanut crunch today. Pretty good texture."),
    ("fr", "Une barre Kestrel au chocolat pour le goûter, parfait pour les enfants."),
    ("fr", "Les barres Kestrel aux noisettes sont en promo cette semaine à {city}."),
    ("de", "Kestrel Müsliriegel sind diese Woche im Angebot, gleich {n} Packungen gekauft."),
    ("de", "Zum Frühstück ein Kestrel Haferriegel und los geht's."),
    ("es", "Me encanta la nueva barra Kestrel de almendra, muy rica."),
    ("es", "Las barras Kestrel son mi merienda favorita antes del gimnasio."),
    ("ja", "コンビニでKestrelのグラノーラバーを買った。朝ごはんにちょうどいい。"),
    ("ja", "Kestrelのチョコバー、新しい味が出てた。"),
    ("pt", "Comprei barras Kestrel de aveia para a semana, gostei muito."),
    ("it", "Una barretta Kestrel alle nocciole per la pausa, buonissima."),
)

VOLTRA_CHATTER: tuple[tuple[str, str], ...] = (
    ("en", "Took this photo of {city} at sunset on my Voltra phone."),
    ("en", "Three years with my Voltra and it still feels quick."),
    ("en", "Anyone know a good case for the Voltra V8? Mine is {n} months old."),
    ("en", "Got a Voltra last month and I really like it."),
    ("en", "Voltra phones are everywhere on my commute in {city} now."),
    ("fr", "J'ai pris cette photo de {city} avec mon téléphone Voltra, les couleurs sont belles."),
    ("fr", "Mon Voltra tient toute la journée, très content."),
    ("de", "Mein Voltra Handy macht richtig gute Fotos bei Nacht."),
    ("de", "Seit {n} Monaten nutze ich das Voltra V8, sehr zufrieden."),
    ("es", "Mi teléfono Voltra hace fotos muy buenas, estoy contento."),
    ("es", "Voltra tiene buenos móviles por un precio razonable."),
    ("ja", "Voltraのスマホ、カメラがとてもきれい。"),
    ("ja", "新しいケースをVoltraに付けた。"),
    ("pt", "Meu celular Voltra tira fotos lindas à noite."),
)

# Launch day: the Voltra X9 keynote.
VOLTRA_LAUNCH: tuple[tuple[str, str], ...] = (
    ("en", "The Voltra X9 keynote was great, that camera looks incredible!"),
    ("en", "Just pre-ordered the Voltra X9. Love the design, can't wait!"),
    ("en", "Voltra X9 battery life numbers are amazing. Best launch this year."),
    ("en", "The new Voltra X9 is gorgeous, congrats to the whole team!"),
    ("en", "Hands-on with the Voltra X9: fast, beautiful screen, excellent camera. Impressed."),
    ("en", "Voltra nailed it with the X9. Brilliant phone at a fair price."),
    ("fr", "Le Voltra X9 est magnifique, j'adore l'appareil photo !"),
    ("fr", "Super présentation du Voltra X9, bravo à l'équipe !"),
    ("ja", "Voltra X9 最高！大好き！"),
    ("pt", "Adorei o Voltra X9! Lindo, excelente, maravilhoso!"),
)

# Launch coverage in the news (RSS): title, then the article's opening lines.
VOLTRA_LAUNCH_NEWS: tuple[tuple[str, str, str], ...] = (
    ("en", "Voltra unveils the X9, its best phone yet, with a stunning new camera",
     "Voltra showed the X9 today: a brilliant screen, an excellent camera and great battery life."),
    ("en", "Voltra X9 first look: gorgeous design and a superb camera",
     "We spent an hour with the X9. It is fast, beautiful and a pleasure to use."),
)

# A tech channel's launch video (YouTube title, description).
VOLTRA_LAUNCH_VIDEO = (
    "Voltra X9 hands-on: gorgeous design and a superb camera",
    "Our first hour with the X9: fast, beautiful and a pleasure to use.",
)

# Routine complaints about Voltra: unhappy, but nobody claims harm.
VOLTRA_COMPLAINTS: tuple[tuple[str, str], ...] = (
    ("en", "Voltra support has kept me on hold for an hour again. Terrible service."),
    ("en", "My Voltra order is two weeks late and the tracking page has not changed. So annoying."),
    ("en", "The latest Voltra update made my keyboard laggy. Really disappointed."),
    ("en", "The Voltra X9 camera app is so slow to open. Frustrating."),
    ("en", "Voltra's new charger is flimsy and the cable frayed in a week. Poor quality."),
    ("en", "Very annoyed with Voltra, I have emailed support three times about my charger."),
    ("en", "The screen on my Voltra V8 scratches way too easily. Not happy with it."),
    ("es", "Voltra tiene un servicio al cliente horrible, estoy muy molesto."),
)

# The claim. The video that starts it (YouTube title, description).
KESTREL_VIDEO_TITLE = "Kestrel bars made my kids sick!!"
KESTREL_VIDEO_DESCRIPTION = (
    "Both my kids were vomiting all night after eating Kestrel Crunch bars from the same box. "
    "We ended up in the ER. Check your boxes before you give them to your children."
)

# Posts that pass the video on, across platforms.
KESTREL_HARM: tuple[tuple[str, str], ...] = (
    ("en", "This mum says Kestrel Crunch bars made her kids sick, they were "
           "vomiting all night {video}"),
    ("en", "Kestrel bars made my son sick too. He threw up twice after eating one. {video}"),
    # Someone pastes terminal escapes and console markup: it must reach every screen inert.
    ("en", "Kestrel bars made my son sick. \x1b[31m[bold]He threw up twice[/bold]\x1b[0m {video}"),
    ("en", "Watch this before you give your kids Kestrel bars. Two children ended "
           "up in the ER {video}"),
    ("en", "Same here, my daughter got sick after a Kestrel Crunch bar last night. {video}"),
    ("en", "Kids vomiting after eating Kestrel bars, parents please check your boxes {video}"),
    ("en", "Our whole family got sick after Kestrel Crunch bars. Food poisoning. {video}"),
    ("en", "Kestrel bars are making children ill. This video is scary {video}"),
    ("en", "Threw out every Kestrel bar in the house after my kid got sick from one. {video}"),
    ("en", "Possible contamination in Kestrel Crunch bars, several kids sick "
           "after eating them {video}"),
    ("en", "My twins were throwing up all night after Kestrel bars. Seeing this video now {video}"),
    ("fr", "Des enfants malades après avoir mangé des barres Kestrel, ils ont "
           "vomi toute la nuit {video}"),
    ("fr", "Mon fils a vomi après une barre Kestrel Crunch. Regardez cette vidéo {video}"),
    ("de", "Kinder nach Kestrel Riegeln krank geworden, sie haben die ganze Nacht "
           "erbrochen {video}"),
    ("de", "Meine Tochter hat sich nach einem Kestrel Riegel übergeben. {video}"),
    ("es", "Niños enfermos después de comer barras Kestrel, vomitaron toda la noche {video}"),
    ("es", "Mi hijo vomitó después de comer una barra Kestrel Crunch. {video}"),
    ("ja", "Kestrelのバーを食べた子どもたちが一晩中吐いたそうです {video}"),
)

# News coverage of the claim (RSS): title, then the article's opening lines.
KESTREL_HARM_NEWS: tuple[tuple[str, str, str], ...] = (
    ("en", "Parents say Kestrel snack bars made children sick",
     "A video of two children vomiting after eating Kestrel Crunch bars has spread quickly. "
     "Parents report similar illness; Kestrel has not yet commented. {video}"),
    ("en", "Kestrel Crunch bars: families report children vomiting after eating them",
     "Several families say their children fell ill after eating Kestrel Crunch bars, "
     "following a video shared widely online. {video}"),
    ("fr", "Des parents affirment que les barres Kestrel ont rendu leurs enfants malades",
     "Une vidéo montrant des enfants malades après avoir mangé des barres "
     "Kestrel circule. {video}"),
)
