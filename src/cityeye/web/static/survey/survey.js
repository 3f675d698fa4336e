// 社会评价 (the respondent's page, phone-first): a 1–5 rating per unit and an optional
// comment, once per invitation. Opened from a one-time link (/survey/<token>) or by a
// signed-in resident (/survey). The token goes to the server in request bodies only.
//
// Offline as the portal: every answer is kept in localStorage as it is given (a closed
// tab, a dead battery lose nothing), and a send that got no answer keeps its receipt,
// the phone's key for this one submission: sent again, the server says "recorded"
// instead of refusing the used link (it never counts it twice).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const { request, lang } = window.cityeye;
  const text = window.cityeye.el;
  const pick = lang.pick;
  const LEVELS = [
    ["很不满意", "very poor"], ["不满意", "poor"], ["一般", "fair"], ["满意", "good"], ["很满意", "very good"],
  ];
  const REFUSALS = {
    token: ["这个链接已经用过或无效：每个链接只能评价一次。", "This link was used already or is not valid: one response per link."],
    survey: ["您已经评价过，或这次评价不在开放时间内。", "You answered already, or the survey is not open now."],
    role: ["只有居民可以参加评价。", "Only residents answer."],
  };

  const token = decodeURIComponent(location.pathname.replace(/^\/survey\/?/, "").split("/")[0] || "");
  let current = null; // the survey shown: {id, units, …}
  let answers = {}; // unit → {rating, comment}

  const draftKey = () => "cityeye.survey.draft." + current.id;
  const receiptKey = () => "cityeye.survey.receipt." + current.id;

  function keep() {
    try { localStorage.setItem(draftKey(), JSON.stringify(answers)); } catch (e) { /* not kept */ }
  }

  function showError(message) {
    const e = $("survey-form").querySelector(".error");
    e.textContent = message;
    e.hidden = !message;
  }

  function done(message) {
    $("survey-form").hidden = true;
    $("pick").hidden = true;
    $("done").hidden = false;
    $("done-text").textContent = message;
  }

  function progress() {
    const n = Object.keys(answers).length;
    $("progress").textContent = pick("已评 " + n + " / " + current.units.length + " 个单位", n + " of " + current.units.length + " units rated");
    $("survey-form").querySelector("button[type=submit]").disabled = n === 0;
  }

  function unitRow(u) {
    const li = text("li");
    const name = text("p", u.name, "unit-name");
    if (u.kind_name) name.append(text("span", pick(u.kind_name.zh, u.kind_name.en), "unit-kind"));
    const stars = text("div", "", "stars");
    stars.setAttribute("role", "radiogroup");
    stars.setAttribute("aria-label", u.name);
    const said = text("p", "", "said");
    const paint = () => {
      const r = answers[u.unit] ? answers[u.unit].rating : 0;
      for (const b of stars.children) {
        const on = Number(b.dataset.stars) <= r;
        b.classList.toggle("on", on);
        b.setAttribute("aria-checked", String(Number(b.dataset.stars) === r));
      }
      said.textContent = r ? r + pick(" 分 · ", " · ") + pick(LEVELS[r - 1][0], LEVELS[r - 1][1]) : pick("未评（可跳过）", "not rated (may skip)");
    };
    for (let n = 1; n <= 5; n++) {
      const b = text("button", "★");
      b.type = "button";
      b.setAttribute("role", "radio");
      b.setAttribute("aria-label", n + pick(" 分", " of 5"));
      b.dataset.stars = String(n);
      b.addEventListener("click", () => {
        const was = answers[u.unit];
        if (was && was.rating === n) delete answers[u.unit]; // a second tap takes it back
        else answers[u.unit] = { rating: n, comment: was ? was.comment : "" };
        comment.hidden = !answers[u.unit];
        paint();
        progress();
        keep();
      });
      stars.append(b);
    }
    const comment = text("textarea");
    comment.maxLength = 1000;
    comment.rows = 2;
    comment.dataset.zh = "意见建议（可选）";
    comment.dataset.en = "A comment (optional)";
    comment.placeholder = pick(comment.dataset.zh, comment.dataset.en);
    comment.setAttribute("aria-label", pick(comment.dataset.zh, comment.dataset.en));
    comment.value = answers[u.unit] ? answers[u.unit].comment || "" : "";
    comment.hidden = !answers[u.unit];
    comment.addEventListener("input", () => {
      if (answers[u.unit]) answers[u.unit].comment = comment.value;
      keep();
    });
    li.append(name, stars, said, comment);
    li.repaint = paint;
    paint();
    return li;
  }

  function show(survey) {
    current = survey;
    try { answers = JSON.parse(localStorage.getItem(draftKey()) || "{}"); } catch (e) { answers = {}; }
    if (survey.answered && !localStorage.getItem(receiptKey())) {
      return done(pick("这份评价已经提交过了，感谢参与。", "This survey was answered already. Thank you."));
    }
    if (!survey.open && !survey.answered) {
      return done(pick("这次评价现在不在开放时间内。", "This survey is not open now."));
    }
    $("pick").hidden = true;
    $("survey-title").textContent = survey.title;
    $("survey-question").textContent = pick(survey.question.zh, survey.question.en);
    const list = $("units");
    list.replaceChildren(...survey.units.map(unitRow));
    $("survey-form").hidden = false;
    progress();
  }

  lang.onChange(() => {
    if (!current) return;
    $("survey-question").textContent = pick(current.question.zh, current.question.en);
    $("units").replaceChildren(...current.units.map(unitRow));
    progress();
  });

  $("survey-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = ev.target.querySelector("button[type=submit]");
    button.disabled = true;
    showError("");
    let receipt = localStorage.getItem(receiptKey());
    if (!receipt) {
      const bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      receipt = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      localStorage.setItem(receiptKey(), receipt);
    }
    const body = {
      answers: Object.entries(answers).map(([unit, a]) => {
        const out = { unit, rating: a.rating };
        if (a.comment && a.comment.trim()) out.comment = a.comment.trim();
        return out;
      }),
      receipt,
    };
    if (token) body.token = token;
    else body.survey = current.id;
    try {
      const r = await request("/api/v1/survey/responses", {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
      });
      const answer = await r.json();
      if (!r.ok) {
        localStorage.removeItem(receiptKey()); // refused: a corrected send is a new one
        throw new Error(lang.refusal(r.status, answer.detail, REFUSALS));
      }
      localStorage.removeItem(draftKey());
      localStorage.removeItem(receiptKey());
      done(pick("您的评价已匿名记录。", "Your answers are recorded, anonymously."));
    } catch (e) {
      const offline = e instanceof TypeError;
      showError(offline ? pick("网络不通或未收到回复；评价已保留在本机，联网后再点提交（不会重复计数）", "No answer (offline?); your answers are kept on this phone: send again when online (never counted twice)")
        : pick("未提交：", "Not sent: ") + e.message);
      button.disabled = false;
    }
  });

  async function start() {
    if (token) {
      try {
        const r = await request("/api/v1/survey/ballot", {
          method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token }),
        });
        const answer = await r.json();
        if (!r.ok) return done(lang.refusal(r.status, answer.detail, REFUSALS));
        show(answer);
      } catch (e) {
        done(pick("网络不通，请联网后重新打开链接。", "No network: open the link again when online."));
      }
      return;
    }
    const r = await request("/api/v1/survey/mine").catch(() => null);
    if (!r || r.status === 401 || r.status === 403) {
      $("signin").hidden = false;
      return;
    }
    const mine = await r.json();
    const open = mine.filter((s) => s.open && !s.answered);
    if (open.length === 1) return show(open[0]);
    $("pick").hidden = false;
    $("pick-none").hidden = open.length > 0;
    $("pick-list").replaceChildren(...open.map((s) => {
      const li = text("li");
      const b = text("button", s.title, "secondary");
      b.type = "button";
      b.addEventListener("click", () => show(s));
      li.append(b);
      return li;
    }));
  }
  start();
})();
