"""parse_feed and its parts: ids, links, text, dates, hints, language, non-feeds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import FeedConfig
from bot.ingest.parser import (
    SUMMARY_CHARS,
    ParseError,
    clean_text,
    entry_id,
    normalize_link,
    parse_feed,
    summarize,
)
from testing.feedserver import FeedEntry, make_rss

FEED = FeedConfig(name="news", url="https://news.example/feeds/world.xml", interval=600)
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def rss(items: str, channel: str = "<title>World</title>") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">'
        f"<channel>{channel}{items}</channel></rss>"
    ).encode()


def parse(body: bytes, feed: FeedConfig = FEED, **kwargs: object):
    return parse_feed(body, feed, now=NOW, **kwargs)  # type: ignore[arg-type]


def test_an_rss_item_becomes_a_clean_headline() -> None:
    body = rss(
        "<item><guid>urn:story:1</guid>"
        "<title>Pakistan: protests &lt;b&gt;grow&lt;/b&gt; &amp;amp; spread</title>"
        "<link>https://news.example/a/1</link>"
        "<description>&lt;p&gt;Crowds &amp;amp; police.&lt;/p&gt;&lt;p&gt;Day two.&lt;/p&gt;"
        "</description>"
        "<category>Politics</category><category>politics</category><category>Asia</category>"
        "<pubDate>Mon, 01 Jan 2024 10:00:00 +0200</pubDate></item>"
    )
    parsed = parse(body)
    assert parsed.title == "World"
    assert parsed.bozo == ""
    (h,) = parsed.headlines
    assert h.feed == "news"
    assert h.entry_id == "urn:story:1"
    assert h.title == "Pakistan: protests grow & spread"
    assert h.link == "https://news.example/a/1"
    assert h.summary == "Crowds & police. Day two."
    assert h.published == datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
    assert h.categories == ("Politics", "Asia")
    assert h.language == "en"
    assert h.regions == ("Asia",)


def test_atom_entry_with_content_and_updated_only() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?>
    <feed xmlns="http://www.w3.org/2005/Atom" xml:lang="es-MX">
      <title type="html">Noticias &amp;lt;en&amp;gt; vivo</title>
      <entry><id>tag:news.example,2024:7</id><title>Kenia: elecciones</title>
        <link rel="alternate" href="/es/7"/>
        <updated>2024-05-02T03:04:05-03:00</updated>
        <content type="html">&lt;div&gt;Texto &amp;eacute;l&lt;/div&gt;</content>
      </entry></feed>"""
    parsed = parse(body)
    assert parsed.title == "Noticias <en> vivo"
    (h,) = parsed.headlines
    assert h.entry_id == "tag:news.example,2024:7"
    assert h.link == "https://news.example/es/7"
    assert h.summary == "Texto él"
    assert h.published == datetime(2024, 5, 2, 6, 4, 5, tzinfo=UTC)
    assert h.language == "es"


def atom(entries: str, title: str = "<title>World</title>") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"{title}{entries}</feed>"
    ).encode()


# RSS titles: feedparser reports text/plain unless the text has a closing tag or an entity
# once the XML is decoded; then it is HTML, stripped of tags and decoded once.
@pytest.mark.parametrize(
    ("title_xml", "title"),
    [
        ("Vector&lt;T&gt; is fast", "Vector<T> is fast"),
        ('Profits &lt; wages &amp; "growth" &lt;b&gt;', 'Profits < wages & "growth" <b>'),
        ("<![CDATA[Vector<T> is fast]]>", "Vector<T> is fast"),
        ("<![CDATA[Profits < wages & growth <b>]]>", "Profits < wages & growth <b>"),
        # Escaped markup is HTML: its tags go.
        ("Protests &lt;b&gt;grow&lt;/b&gt;", "Protests grow"),
        ("<![CDATA[<em>Bold</em> move]]>", "Bold move"),
        # Double-escaped: HTML whose text shows entities, decoded once.
        ("AT&amp;amp;T &amp;lt;3 &amp;quot;Q&amp;amp;A&amp;quot;", 'AT&T <3 "Q&A"'),
        ("Why &amp;lt;b&amp;gt; is &lt;i&gt;bold&lt;/i&gt;", "Why <b> is bold"),
    ],
)
def test_rss_titles_lose_markup_only_when_they_are_html(title_xml: str, title: str) -> None:
    (h,) = parse(rss(f"<item><title>{title_xml}</title></item>")).headlines
    assert h.title == title


@pytest.mark.parametrize(
    ("title_xml", "title"),
    [
        ('<title type="text">Vector&lt;T&gt; is fast</title>', "Vector<T> is fast"),
        ("<title>Profits &lt; wages &amp; &lt;b&gt;growth&lt;/b&gt;</title>",
         "Profits < wages & <b>growth</b>"),
        ('<title type="text"><![CDATA[Vector<T> & <b>]]></title>', "Vector<T> & <b>"),
        # Entities left in text after the XML are decoded once, as generators that escape
        # twice mean them: "AT&amp;T" is not a headline anyone wrote.
        ('<title type="text">AT&amp;amp;T &amp;lt;b&amp;gt;</title>', "AT&T <b>"),
        ('<title type="html">Vector&amp;lt;T&amp;gt; is &lt;b&gt;fast&lt;/b&gt;</title>',
         "Vector<T> is fast"),
        ('<title type="html"><![CDATA[<b>Fast</b> &amp; safe]]></title>', "Fast & safe"),
        ('<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
         "Vector&lt;T&gt; is <b>fast</b></div></title>", "Vector<T> is fast"),
    ],
)  # fmt: skip
def test_atom_titles_lose_markup_only_when_they_are_html(title_xml: str, title: str) -> None:
    (h,) = parse(atom(f"<entry><id>1</id>{title_xml}</entry>")).headlines
    assert h.title == title


def test_summaries_categories_and_the_feed_title_keep_plain_text() -> None:
    body = atom(
        "<entry><id>1</id><title>a</title>"
        '<summary type="text">Vector&lt;T&gt; &amp; Box&lt;T&gt;</summary>'
        '<category term="C&lt;T&gt;"/><category term="Health &amp;amp; Fitness"/></entry>'
        "<entry><id>2</id><title>b</title>"
        '<content type="text">List&lt;T&gt; only in content</content></entry>'
        "<entry><id>3</id><title>c</title>"
        '<content type="html">&lt;p&gt;Map&amp;lt;K, V&amp;gt; &lt;b&gt;x&lt;/b&gt;&lt;/p&gt;'
        "</content></entry>",
        title='<title type="text">C&lt;T&gt; weekly</title>',
    )
    parsed = parse(body)
    assert parsed.title == "C<T> weekly"
    plain, content, html_content = parsed.headlines
    assert plain.summary == "Vector<T> & Box<T>"
    assert plain.categories == ("C<T>", "Health & Fitness")
    assert content.summary == "List<T> only in content"
    assert html_content.summary == "Map<K, V> x"
    # An RSS description is HTML by definition, and categories come as text in CDATA too.
    (item,) = parse(
        rss(
            "<item><title>t</title><description>&lt;p&gt;Vector&amp;lt;T&amp;gt;&lt;/p&gt;"
            "</description><category>C&lt;T&gt;</category>"
            "<category><![CDATA[Health &amp; Fitness]]></category></item>",
            "<title>C&lt;T&gt; weekly</title>",
        )
    ).headlines
    assert item.summary == "Vector<T>"
    assert item.categories == ("C<T>", "Health & Fitness")
    assert parse(rss("", "<title>C&lt;T&gt; weekly</title>")).title == "C<T> weekly"


@pytest.fixture
def new_york_clock() -> Iterator[None]:
    """Local time far from UTC: a parser that used mktime would shift every date."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        yield
    finally:
        mp.undo()
        time.tzset()


def test_dates_are_utc_whatever_the_local_time_zone(new_york_clock: None) -> None:
    body = rss("<item><title>a</title><pubDate>Sat, 01 Jun 2024 09:30:00 GMT</pubDate></item>")
    (h,) = parse(body).headlines
    assert h.published == datetime(2024, 6, 1, 9, 30, tzinfo=UTC)
    assert h.published.utcoffset() == timedelta(0)


def test_missing_unreadable_and_future_dates_become_now() -> None:
    body = rss(
        "<item><title>none</title></item>"
        "<item><title>garbage</title><pubDate>the day after tomorrow</pubDate></item>"
        "<item><title>future</title><pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate></item>"
        "<item><title>soon</title><pubDate>Sat, 01 Jun 2024 12:03:00 GMT</pubDate></item>"
    )
    dates = {h.title: h.published for h in parse(body).headlines}
    assert dates["none"] == NOW
    assert dates["garbage"] == NOW
    assert dates["future"] == NOW
    # A few minutes ahead is clock skew, kept as the feed said.
    assert dates["soon"] == datetime(2024, 6, 1, 12, 3, tzinfo=UTC)


def test_entry_id_prefers_guid_then_normalised_link_then_a_hash() -> None:
    body = rss(
        '<item><guid isPermaLink="false">  g-1  </guid><title>a</title>'
        "<link>https://news.example/a</link></item>"
        "<item><title>b</title>"
        "<link>HTTPS://News.Example:443/b?id=3&amp;utm_source=rss&amp;fbclid=x#top</link></item>"
        "<item><title>c</title><description>only text</description></item>"
    )
    a, b, c = parse(body).headlines
    assert a.entry_id == "g-1"
    assert b.entry_id == "https://news.example/b?id=3"
    # The link itself is kept as published: tracking parameters are only left out of the id.
    assert b.link == "https://News.Example:443/b?id=3&utm_source=rss&fbclid=x#top"
    assert c.entry_id.startswith("sha1:")
    assert c.link == ""
    # Stable across parses, different for different content.
    assert parse(body).headlines[2].entry_id == c.entry_id
    assert entry_id("", "", "c", "other text") != c.entry_id


def test_very_long_guids_are_hashed() -> None:
    guid = "x" * 1000
    assert entry_id(guid, "", "", "") == entry_id(guid, "", "t", "s")
    assert entry_id(guid, "", "", "").startswith("sha1:")
    assert len(entry_id(guid, "", "", "")) < 64


@pytest.mark.parametrize(
    ("link", "normal"),
    [
        ("HTTP://Example.COM/Path/Case", "http://example.com/Path/Case"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        (
            "https://example.com/a?b=2&utm_source=x&UTM_Medium=y&a=1&gclid=z",
            "https://example.com/a?b=2&a=1",
        ),
        ("https://example.com/a?id=1&ref=home", "https://example.com/a?id=1&ref=home"),
        ("https://example.com", "https://example.com/"),
    ],
)
def test_normalize_link(link: str, normal: str) -> None:
    assert normalize_link(link) == normal


def test_links_resolve_against_the_feed_url_and_only_http_links_are_kept() -> None:
    body = rss(
        "<item><title>root</title><link>/politics/1</link></item>"
        "<item><title>relative</title><link>2.html</link></item>"
        "<item><title>script</title><link>javascript:alert(1)</link></item>"
    )
    links = {h.title: h.link for h in parse(body).headlines}
    assert links == {
        "root": "https://news.example/politics/1",
        "relative": "https://news.example/feeds/2.html",
        "script": "",
    }
    # The URL the body was actually fetched from wins over the configured one.
    moved = parse(body, url="https://mirror.example/x/feed").headlines
    assert moved[0].link == "https://mirror.example/politics/1"


def test_summary_strips_markup_scripts_and_entities() -> None:
    html = (
        "<p>First&nbsp;paragraph&hellip;</p><script>var x = '<b>no</b>';</script>"
        "<style>p { color: red }</style><!-- hidden -->"
        "<ul><li>one</li><li>two</li></ul> 3 &lt; 4 &amp; x<br/>end"
    )
    # &nbsp; is whitespace too.
    assert clean_text(html) == "First paragraph… one two 3 < 4 & x end"
    assert clean_text("a <b>bold</b>ly   said\n\t thing") == "a boldly said thing"
    assert clean_text("x < y and y > z") == "x < y and y > z"
    assert clean_text("Vector<T>  &amp; <b>\n", markup=False) == "Vector<T> & <b>"


def test_long_summaries_are_cut_at_a_word_with_an_ellipsis() -> None:
    words = " ".join(f"word{i}" for i in range(200))
    body = rss(f"<item><title>t</title><description>{words}</description></item>")
    (h,) = parse(body).headlines
    assert h.summary.endswith("…")
    assert len(h.summary) <= SUMMARY_CHARS + 1
    kept = h.summary[:-1]
    assert words.startswith(kept + " ")  # ends on a whole word
    assert len(kept) > SUMMARY_CHARS - 20
    assert summarize("short text") == "short text"
    assert summarize("x" * 500) == "x" * SUMMARY_CHARS + "…"


def test_an_entry_with_nothing_to_show_is_skipped() -> None:
    body = rss(
        "<item><pubDate>Sat, 01 Jun 2024 09:30:00 GMT</pubDate></item>"
        "<item><title>   </title><description>&lt;p&gt; &lt;/p&gt;</description></item>"
        "<item><title>kept</title></item>"
    )
    assert [h.title for h in parse(body).headlines] == ["kept"]


def test_language_comes_from_config_else_the_feed_else_english() -> None:
    def language(channel_language: str, configured: str = "") -> str:
        feed = FeedConfig(name="n", url=FEED.url, interval=600, language=configured)
        channel = f"<title>t</title><language>{channel_language}</language>"
        return parse(rss("<item><title>x</title></item>", channel), feed).headlines[0].language

    assert language("es-ES") == "es"
    assert language("ES_mx") == "es"
    assert language("en-GB") == "en"
    assert language("fr-FR") == "en"
    assert language("") == "en"
    assert language("en-US", configured="es") == "es"


def test_regions_use_feed_defaults_and_keywords() -> None:
    feed = FeedConfig(
        name="n",
        url=FEED.url,
        interval=600,
        regions=("Europe",),
        keywords=(("Bogotá", "Latin America"),),
    )
    body = rss(
        "<item><title>Japan: election called</title></item>"
        "<item><title>Talks in Bogotá</title></item>"
    )
    japan, bogota = parse(body, feed).headlines
    assert japan.regions == ("Asia", "Europe")
    assert bogota.regions == ("Europe", "Latin America")


@pytest.mark.parametrize(
    ("channel", "ttl", "period"),
    [
        ("<ttl>30</ttl>", 1800, 0),
        ("<sy:updatePeriod>hourly</sy:updatePeriod>"
         "<sy:updateFrequency>2</sy:updateFrequency>", 0, 1800),
        ("<sy:updatePeriod> Daily </sy:updatePeriod>", 0, 86400),
        ("<ttl>soon</ttl><sy:updatePeriod>fortnightly</sy:updatePeriod>", 0, 0),
        ("<ttl>-5</ttl><sy:updatePeriod>weekly</sy:updatePeriod>"
         "<sy:updateFrequency>zero</sy:updateFrequency>", 0, 7 * 86400),
        ("", 0, 0),
    ],
)  # fmt: skip
def test_polling_hints(channel: str, ttl: int, period: int) -> None:
    hints = parse(rss("<item><title>x</title></item>", f"<title>t</title>{channel}")).hints
    assert (hints.ttl, hints.update_period) == (ttl, period)


def test_builder_feeds_round_trip() -> None:
    entries = [
        FeedEntry(
            title="Brazil: vote & count",
            link="https://news.example/b",
            guid="b-1",
            summary="<p>Counting <i>continues</i></p>",
            published=datetime(2024, 5, 1, tzinfo=UTC),
            categories=("Latin America",),
        )
    ]
    body = make_rss(entries, language="es", ttl=15, update_period="hourly")
    parsed = parse(body)
    (h,) = parsed.headlines
    assert (h.entry_id, h.title, h.summary) == ("b-1", "Brazil: vote & count", "Counting continues")
    assert h.language == "es"
    assert parsed.hints.ttl == 900
    assert parsed.hints.update_period == 3600


def test_malformed_xml_with_entries_is_kept_and_flagged() -> None:
    body = rss(
        "<item><title>Iran: talks &amp; hopes</title><link>https://news.example/i</link></item>"
        "<item><title>Broken &nbsp; entity <b>unclosed</title></item>"
    )
    parsed = parse(body)
    assert parsed.bozo
    assert len(parsed.bozo) <= 201
    titles = [h.title for h in parsed.headlines]
    assert titles == ["Iran: talks & hopes", "Broken entity unclosed"]


def test_a_feed_without_entries_is_not_an_error() -> None:
    parsed = parse(rss("", "<title>Quiet</title>"))
    assert parsed.headlines == ()
    assert parsed.title == "Quiet"


@pytest.mark.parametrize(
    ("body", "looks_like"),
    [
        (b"", "an empty body"),
        (b"  \n\t ", "an empty body"),
        (b"<!DOCTYPE html><html><head><title>Home</title></head><body>hi</body></html>",
         "an HTML page"),
        (b"\xef\xbb\xbf<html lang='en'><body><p>Moved</p></body></html>", "an HTML page"),
        (b'{"items": [1, 2, 3]}', "a body of 20 bytes starting '{\"items\""),
        (b"\x00\x01\x02\xff\xfe binary", "a body of 12 bytes"),
        # Looks like a path: must be parsed as content, never opened as a local file.
        (b"/etc/passwd", "a body of 11 bytes starting '/etc/passwd'"),
    ],
)  # fmt: skip
def test_a_body_that_is_not_a_feed_raises_parse_error(body: bytes, looks_like: str) -> None:
    with pytest.raises(ParseError) as error:
        parse(body)
    message = str(error.value)
    assert message.startswith(f"parser: {looks_like}")
    assert message.endswith("does not look like an RSS or Atom feed")


def test_entity_expansion_bomb_is_refused_quickly() -> None:
    laughs = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
    )
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [{laughs}]><rss version="2.0"><channel>'
        "<item><title>&a9;</title><link>http://x.example/1</link></item></channel></rss>"
    ).encode()
    parsed = parse_feed(body, FEED)
    assert "amplification" in parsed.bozo
    assert all(len(h.title) < 100 for h in parsed.headlines)


def test_external_entities_are_not_read() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
        b'<rss version="2.0"><channel><item><title>Leak: &x;</title>'
        b"<link>http://x.example/1</link></item></channel></rss>"
    )
    secret = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""
    [headline] = parse_feed(body, FEED).headlines
    assert headline.title.startswith("Leak:")
    assert not secret or secret not in headline.title


# -- pictures ---------------------------------------------------------------------------

MEDIA_RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>Pictures</title>
<item><title>content</title><link>https://news.example/world/a.html</link><guid>1</guid>
  <media:content url="/img/a.jpg" type="image/jpeg" width="800"/>
  <media:thumbnail url="https://cdn.example/thumb-a.jpg"/></item>
<item><title>video first</title><link>https://news.example/b</link><guid>2</guid>
  <media:group>
    <media:content url="https://cdn.example/b.mp4" type="video/mp4"/>
    <media:content url="https://cdn.example/b.webp" medium="image"/>
  </media:group></item>
<item><title>thumbnail</title><link>https://news.example/c/</link><guid>3</guid>
  <media:content url="https://cdn.example/c.mp3"/>
  <media:thumbnail url="c-small.png"/></item>
<item><title>untyped</title><link>https://news.example/d</link><guid>4</guid>
  <media:content url="https://cdn.example/d.PNG?w=600&amp;h=400"/></item>
<item><title>enclosure</title><link>https://news.example/e</link><guid>5</guid>
  <enclosure url="https://cdn.example/e.mp3" type="audio/mpeg" length="1"/>
  <enclosure url="https://cdn.example/e.gif" type="image/gif" length="1"/></item>
<item><title>img</title><link>https://news.example/f/story</link><guid>6</guid>
  <description>&lt;p&gt;Text &lt;img alt="x" src='pics/f.jpg?a=1&amp;amp;b=2'&gt;
  &lt;img src="second.jpg"&gt;&lt;/p&gt;</description></item>
<item><title>none</title><link>https://news.example/g</link><guid>7</guid>
  <description>No picture at all.</description></item>
</channel></rss>"""


def test_an_entry_keeps_its_picture_from_media_enclosures_or_its_first_img() -> None:
    images = {h.title: h.image for h in parse(MEDIA_RSS).headlines}
    assert images == {
        "content": "https://news.example/img/a.jpg",  # resolved against the entry's link
        "video first": "https://cdn.example/b.webp",  # medium="image", not the video
        "thumbnail": "https://news.example/c/c-small.png",  # an untyped .mp3 is no picture
        "untyped": "https://cdn.example/d.PNG?w=600&h=400",  # by its extension
        "enclosure": "https://cdn.example/e.gif",  # the image enclosure, not the audio
        "img": "https://news.example/f/pics/f.jpg?a=1&b=2",  # the first, entities decoded
        "none": "",
    }
    # The picture is not part of the text shown.
    assert all("img" not in h.summary for h in parse(MEDIA_RSS).headlines)


def test_an_atom_entry_keeps_an_image_enclosure_or_the_first_img_of_its_content() -> None:
    body = atom(
        "<entry><title>enclosure</title><id>1</id><link href='https://news.example/a/1'/>"
        "<link rel='enclosure' type='image/jpeg' href='../pics/1.jpg'/></entry>"
        "<entry><title>content</title><id>2</id><link href='https://news.example/b/2'/>"
        "<content type='html'>&lt;figure&gt;&lt;img src=\"//cdn.example/2.png\"&gt;"
        "&lt;/figure&gt;Words</content></entry>"
    )
    images = {h.title: h.image for h in parse(body).headlines}
    assert images == {
        "enclosure": "https://news.example/pics/1.jpg",
        "content": "https://cdn.example/2.png",  # scheme-relative takes the link's
    }


@pytest.mark.parametrize(
    "src",
    [
        "javascript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "JaVaScRiPt:alert(1)",
        "ftp://files.example/a.jpg",
        "https://exa mple.com/a.jpg",
        "http://[::1/a.jpg",
        "http://",
        "https://cdn.example/" + "a" * 2100 + ".jpg",
    ],
)
def test_a_hostile_or_unusable_picture_url_is_dropped(src: str) -> None:
    escaped = src.replace("&", "&amp;").replace('"', "&quot;")
    body = rss(
        "<item><title>x</title><link>https://news.example/x</link>"
        f'<enclosure url="{escaped}" type="image/jpeg" length="1"/>'
        f"<description>&lt;img src=&quot;{escaped}&quot;&gt;</description></item>"
    )
    [item] = parse(body).headlines
    assert item.image == ""


def test_a_relative_picture_without_an_entry_link_resolves_against_the_feed() -> None:
    body = rss("<item><title>x</title><description>&lt;img src=/p.jpg&gt;</description></item>")
    [item] = parse(body).headlines
    assert item.image == "https://news.example/p.jpg"
