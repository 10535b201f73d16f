"""Speaker attribution and "what did X say" questions, on hand-made news text."""
from qa.ingest.speakers import asked_about, asked_topic, attribute, matches


def test_pronoun_role_and_title_follow_the_named_speaker():
    sentences = [
        "Russian Ambassador to Japan Mikhail Galuzin said the remarks were unhelpful.",
        '"They contradict the spirit of our relations," he noted.',
        "The envoy also asserted that the remarks were counterproductive.",
        '"I would like to recommend our proposals," the diplomat added.',
        "Kremlin Spokesman Dmitry Peskov branded such information as groundless.",
        "That said, he didn't exclude the possibility of provocations.",
        "Mr Galuzin later left the club.",
    ]
    assert attribute(sentences) == ["Mikhail Galuzin", "Mikhail Galuzin", "Mikhail Galuzin",
                                    "Mikhail Galuzin", "Dmitry Peskov", "Dmitry Peskov", None]


def test_a_quotation_over_several_sentences_belongs_to_the_speaker_named_at_its_end():
    sentences = ['"The whistle does not need to be blown.', "I asked him if he wanted a wall.",
                 "I said yes,\" said Poll.", "The match ended 2-2."]
    assert attribute(sentences) == ["Poll", "Poll", "Poll", None]


def test_a_new_quoted_paragraph_continues_the_last_speaker():
    sentences = ["Tim Renner, the head of Universal Music Germany, told the BBC it was over.",
                 '"The problem is that they do not accept it," he stated.',
                 '"So the industry is in the state of a zombie."']
    assert attribute(sentences) == ["Tim Renner"] * 3


def test_the_role_word_picks_the_person_introduced_with_it():
    sentences = ["Japanese Prime Minister Fumio Kishida and US President Joe Biden met online.",
                 "Russian envoy Mikhail Galuzin said it was wrong.",
                 "The Japanese prime minister also stressed that the allies agreed."]
    assert attribute(sentences)[1:] == ["Mikhail Galuzin", "Fumio Kishida"]


def test_unattributed_sentences_have_no_speaker():
    assert attribute(["Shares rose 3% on Monday.", "The company sells cars."]) == [None, None]


def test_asked_about_reads_the_person_from_the_question():
    assert asked_about("What did Galuzin say?") == {"galuzin"}
    assert asked_about("What did Gartner analyst Brian Gammage say about the Mac mini?") == \
        {"gartner", "brian", "gammage"}
    assert asked_about("What has Mr Peskov said about Ukraine?") == {"peskov"}
    assert asked_about("Who is the Kremlin spokesman?") == set()
    assert asked_about("How much did profits rise?") == set()


def test_matches_compares_the_surname():
    assert matches("Mikhail Galuzin", {"galuzin"})
    assert not matches("Dmitry Peskov", {"galuzin"})
    assert not matches(None, {"galuzin"})


def test_an_organisation_is_matched_only_when_the_question_names_it_whole():
    eraa = asked_about("What does the European Regions Airline Association think of the new rules?")
    assert not matches("Players' Association", eraa)  # "association" alone is not a name
    assert matches("European Regions Airline Association", eraa)
    assert matches("Football Association", {"football", "association"})
    # people are still matched on the surname, whatever else the question calls them
    assert matches("Mikhail Galuzin", {"russian", "ambassador", "galuzin"})
    assert matches("Andy Clarke", {"clarke"})


def test_asked_topic_is_what_the_person_is_asked_about():
    assert asked_topic("What did Galuzin say about NATO?") == "NATO"
    assert asked_topic("What did Charles Kennedy say in his New Year message?") == "his New Year message"
    assert asked_topic("What did Galuzin say?") == ""
    assert asked_topic("Who is the Kremlin spokesman?") == ""
