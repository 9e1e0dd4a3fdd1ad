"""A problem with 20,000 distinct answers: a small page, a paged table and JSON, a streamed CSV of every row."""
from __future__ import annotations

import csv
import datetime as dt
import io
import time

import pytest
from django.db.models.query import QuerySet

from openedx_analytics import api, conf
from openedx_analytics.dashboard import answers as shown
from openedx_analytics.models import ProblemAnswer, ProblemSummary
from tests.support.api import BASE, COURSE, client_for
from tests.support.pages import client, page_url, parse

pytestmark = [pytest.mark.django_db(databases=["default", "analytics"]), pytest.mark.usefixtures("clean_caches")]

BIG = "block-v1:Org+Api+2026+type@problem+block@big"
PART = "big_2_1"
SMALL_PART = "big_3_1"
DISTINCT = 20_000
#: The page's bound: the answers of one part cost a chart of top answers and one page of the table.
PAGE_BYTES = 300_000


def learners_of(index: int) -> int:
    """Learners who gave answer ``index``: 1 to 50, so the top of the chart is known."""
    return index % 50 + 1


@pytest.fixture
def big_problem(people, history_loaded, analytics_on):
    """Problem BIG of the course: part PART with 20,000 distinct answers (one a formula), SMALL_PART with 2."""
    now = dt.datetime(2026, 1, 20, tzinfo=dt.timezone.utc)
    ProblemSummary.objects.using("analytics").create(
        course_id=COURSE, problem_id=BIG, part_ids=[PART, SMALL_PART], users_attempted=1, total_submissions=1,
        correct_submissions=1, first_attempt_correct=1, attempts_mean=1.0, last_updated=now)
    rows = [ProblemAnswer(course_id=COURSE, problem_id=BIG, part_id=PART, answer_value=f"answer {i:05d}",
                          correct=i == 49, variant="", count=learners_of(i)) for i in range(DISTINCT - 1)]
    rows.append(ProblemAnswer(course_id=COURSE, problem_id=BIG, part_id=PART, answer_value="=1+1", correct=False,
                              variant="", count=1))
    rows += [ProblemAnswer(course_id=COURSE, problem_id=BIG, part_id=SMALL_PART, answer_value=value,
                           correct=value == "yes", variant="", count=3) for value in ("yes", "no")]
    ProblemAnswer.objects.using("analytics").bulk_create(rows, batch_size=1000)
    return client(people["course_staff"])


def part_section(html: str, key: str) -> str:
    """The HTML of the panel ``key`` of the page."""
    start = html.index(f'<section class="oa-panel" id="{key}"')
    return html[start:html.index("</section>", start)]


def test_page_of_a_big_answer_set_shows_top_answers_and_one_page_of_the_table(big_problem):
    started = time.perf_counter()
    response = big_problem.get(page_url(), {"problem": BIG})
    seconds = time.perf_counter() - started
    assert response.status_code == 200
    html = response.content.decode()
    print(f"answers page: {len(response.content):,} bytes in {seconds:.2f} s")
    assert len(response.content) < PAGE_BYTES
    chart = part_section(html, "problem-detail").split("</svg>")[0]
    assert chart.count("<rect") == shown.ANSWER_CHART_BARS  # the other answers are one row of text, no bar
    assert chart.count('<g class="oa-rest">') == 1
    others = DISTINCT - shown.ANSWER_CHART_BARS
    top_learners = sum(sorted((learners_of(i) for i in range(DISTINCT - 1)), reverse=True)[:shown.ANSWER_CHART_BARS])
    all_learners = sum(learners_of(i) for i in range(DISTINCT - 1)) + 1
    assert f"<title>{others:,} other answers ({all_learners - top_learners:,} learners)</title>" in chart
    table = parse(response).tables["oa-table-problem-detail"]
    assert len(table) == shown.ANSWER_TABLE_ROWS + 1
    first_page = [r["answer_value"] for r in api.answer_rows(COURSE, BIG, PART)[:shown.ANSWER_TABLE_ROWS]]
    assert [row[0] for row in table[1:]] == first_page
    small = parse(response).tables["oa-table-problem-detail-1"]
    assert sorted(row[0] for row in small[1:]) == ["no", "yes"]
    assert part_section(html, "problem-detail-1").split("</svg>")[0].count("<rect") == 2


def test_answer_table_pages_with_links_that_keep_the_other_parameters(big_problem):
    query = {"problem": BIG, "start_date": "2026-01-05", "activity": "day"}
    page = parse(big_problem.get(page_url(), query))
    pages = [link for link in page.links if link and "answers_page=2&" in link]
    assert len(pages) == 1
    for kept in ("start_date=2026-01-05", "activity=day", "answers_part=" + PART):
        assert kept in pages[0]
    second = big_problem.get(pages[0].split("#")[0])
    table = parse(second).tables["oa-table-problem-detail"]
    size = shown.ANSWER_TABLE_ROWS
    second_page = api.answer_rows(COURSE, BIG, PART)[size:2 * size]
    assert [row[0] for row in table[1:]] == [r["answer_value"] for r in second_page]
    assert f"Answers {size + 1:,} to {2 * size:,} of {DISTINCT:,}" in second.content.decode()
    last = -(-DISTINCT // size)
    beyond = parse(big_problem.get(page_url(), {**query, "answers_part": PART, "answers_page": str(last + 5)}))
    assert len(beyond.tables["oa-table-problem-detail"]) == DISTINCT - (last - 1) * size + 1
    assert not [link for link in beyond.links if link and f"answers_page={last + 1}&" in link]
    bad = big_problem.get(page_url(), {**query, "answers_part": PART, "answers_page": "x"})
    assert bad.status_code == 200 and "not a page number" in bad.content.decode()


def test_answers_json_is_paged_like_the_course_list(big_problem, people):
    staff = client_for(people["course_staff"])
    url = f"{BASE}courses/{COURSE}/problems/{BIG}/answers/"
    first = staff.get(url).json()
    assert first["count"] == DISTINCT + 2 and first["previous"] is None
    assert len(first["results"]) == conf.get("OPENEDX_ANALYTICS_API_PAGE_SIZE") == 100
    assert first["results"][0] == next(iter(api.answer_rows(COURSE, BIG)))
    seen = 0
    response = staff.get(url, {"page_size": "1000"}).json()
    while True:
        seen += len(response["results"])
        assert len(response["results"]) <= 1000
        if not response["next"]:
            break
        response = staff.get(response["next"]).json()
    assert seen == DISTINCT + 2


def test_answers_csv_streams_every_row_in_chunks(big_problem, people, monkeypatch):
    chunks = []
    original = QuerySet.iterator

    def spy(self, chunk_size=None):
        chunks.append(chunk_size)
        return original(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    staff = client_for(people["course_staff"])
    response = staff.get(f"{BASE}courses/{COURSE}/problems/{BIG}/answers/", {"format": "csv"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].endswith('_answers_block-v1_Org_Api_2026_type_problem_block_big.csv"')
    assert response["Last-Updated"] == "2026-01-20T00:00:00+00:00"
    pieces = list(response.streaming_content)
    assert chunks == [api.ANSWER_CHUNK_ROWS]
    assert len(pieces) >= (DISTINCT + 2) // api.ANSWER_CHUNK_ROWS  # written chunk by chunk, never joined
    header, *body = list(csv.reader(io.StringIO(b"".join(pieces).decode())))
    assert header == ["question", "part_id", "answer", "correct", "learners", "variant"]
    assert len(body) == DISTINCT + 2
    assert body[0] == ["1", PART, "answer 00049", "true", "50", ""]
    assert ["1", PART, "'=1+1", "false", "1", ""] in body
    assert {tuple(row) for row in body[-2:]} == {("2", SMALL_PART, "no", "false", "3", ""),
                                                 ("2", SMALL_PART, "yes", "true", "3", "")}


def test_python_api_reads_every_answer_in_order_chunk_by_chunk(big_problem):
    streamed = list(api.iter_answer_distribution(COURSE, BIG, chunk_size=500))
    assert streamed == api.get_answer_distribution(COURSE, BIG)
    assert len(streamed) == DISTINCT + 2
    assert api.get_answer_parts(COURSE, BIG) == [
        {"part_id": PART, "answers": DISTINCT, "learners": sum(learners_of(i) for i in range(DISTINCT - 1)) + 1},
        {"part_id": SMALL_PART, "answers": 2, "learners": 6},
    ]
