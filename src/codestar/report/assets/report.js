// codestar report: table sorting and filtering, and the problem panel.
// Every string from a run (model text, program output, ids) is set with textContent;
// nothing here assigns innerHTML or builds markup from text.
"use strict";
(function () {
  const PALETTE = 8;

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function add(parent, ...children) {
    for (const child of children) {
      if (child === null || child === undefined) continue;
      parent.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return parent;
  }

  function pre(text, className) {
    return el("pre", className, text === null || text === undefined ? "" : text);
  }

  function fold(title, body, open) {
    const details = el("details");
    if (open) details.open = true;
    add(details, el("summary", null, title), body);
    return details;
  }

  function verdict(value) {
    const passed = value === "passed";
    return el("span", passed ? "pass" : "fail", value || "not run");
  }

  function table(className, headings, rows) {
    const node = el("table", className);
    const head = add(el("thead"), add(el("tr"), ...headings.map((h) => el("th", null, h))));
    const body = el("tbody");
    for (const cells of rows) {
      const tr = el("tr");
      for (const cell of cells) tr.append(cell instanceof Node ? add(el("td"), cell) : el("td", null, cell));
      body.append(tr);
    }
    return add(node, head, body);
  }

  function testsTable(tests) {
    return table("tests", ["#", "verdict", "input", "expected", "output / error"],
      tests.map((t, i) => [String(i + 1), verdict(t.verdict), t.input, t.expected === null ? "–" : t.expected,
        t.error ? (t.output || "") + "\n" + t.error : t.output]));
  }

  function diff(text) {
    const node = el("pre", "diff");
    for (const line of text.split("\n")) {
      let cls = null;
      if (line.startsWith("@@")) cls = "hunk";
      else if (line.startsWith("+") && !line.startsWith("+++")) cls = "add";
      else if (line.startsWith("-") && !line.startsWith("---")) cls = "del";
      node.append(el("span", cls, line + "\n"));
    }
    return node;
  }

  // A model answer or feedback that quoted the round's program comes as [before, after].
  function withCode(value, code) {
    return Array.isArray(value) ? value[0] + code + value[1] : value;
  }

  function roundView(round) {
    const box = el("div", "round");
    const state = round.code === null ? "no program (" + (round.failure || "none") + ")"
      : round.passed ? "passes the public tests" : "fails a public test";
    add(box, el("h4", null, "Round " + round.index + ": " + state + " · " + round.tokens + " tokens"));
    if (round.notes && round.notes.length) add(box, el("p", "muted", "Extraction: " + round.notes.join("; ")));
    if (round.code !== null) add(box, fold("code", pre(round.code), false));
    if (round.diff) add(box, fold("diff to the previous round", diff(round.diff), round.index > 0));
    if (round.tests.length) add(box, testsTable(round.tests));
    if (round.feedback) {
      add(box, fold("feedback given to the next round", pre(withCode(round.feedback, round.code)), false));
    }
    add(box, fold("model answer (" + (round.finish_reason || "?") + ")",
      pre(withCode(round.completion, round.code)), false));
    return box;
  }

  function candidateView(candidate, selected, clusterOf) {
    const box = el("div", "candidate" + (candidate.index === selected ? " selected" : ""));
    const cluster = clusterOf.has(candidate.index) ? " · cluster " + clusterOf.get(candidate.index) : "";
    const title = "Candidate " + candidate.index + (candidate.index === selected ? " (selected)" : "") +
      ": " + (candidate.passed ? "passes" : "fails") + " public tests · " + candidate.rounds.length +
      " round(s)" + cluster;
    const details = fold(title, null, false);
    details.querySelector("summary").className = candidate.passed ? "pass" : "fail";
    for (const round of candidate.rounds) details.append(roundView(round));
    return add(box, details);
  }

  function matrixView(trace) {
    if (!trace.inputs.length || !trace.matrix.rows.length) return el("p", "muted", "No synthesized inputs were run.");
    const heads = ["candidate", "cluster"].concat(trace.inputs.map((_, i) => "in " + (i + 1)));
    const node = table("matrix", heads, []);
    const body = node.querySelector("tbody");
    for (const row of trace.matrix.rows) {
      const tr = add(el("tr"), el("td", null, String(row.candidate)), el("td", null, String(row.cluster)));
      const outputs = trace.clusters[row.cluster].outputs;
      row.cells.forEach((cls, i) => {
        const td = el("td", cls < 0 ? "cx" : "c" + (cls % PALETTE), outputs[i]);
        td.title = "input:\n" + trace.inputs[i] + "\noutput:\n" + outputs[i];
        tr.append(td);
      });
      body.append(tr);
    }
    const inputs = fold("the inputs (" + trace.inputs.length + " kept, " + trace.inputs_discarded.length +
      " discarded, " + trace.inputs_dropped + " malformed)",
      add(el("div"), ...trace.inputs.map((text, i) => add(el("div"),
        el("b", null, "in " + (i + 1) + (trace.input_sources[i] ? " (" + trace.input_sources[i] + ")" : "")), pre(text))),
        fold("the input writer's answer", pre(trace.inputs_completion), false)), false);
    return add(el("div"), node, inputs);
  }

  function clustersView(trace) {
    return table("clusters", ["cluster", "members", "first outputs"], trace.clusters.map((c) => [
      String(c.index), c.members.join(", "), c.outputs.slice(0, 3).join(" | ")]));
  }

  // S* compares clusters (through a representative); llm-judge compares candidates.
  function side(comparison, index, unit) {
    const which = index === 0 ? comparison.first : comparison.second;
    if (unit === "candidate") return "candidate " + which;
    return "cluster " + which + " (candidate " + comparison.representatives[index] + ")";
  }

  function comparisonView(comparison, number, unit) {
    const box = el("div", "comparison");
    add(box, el("h4", null, "Comparison " + (number + 1) + ": " + side(comparison, 0, unit) + " vs " +
      side(comparison, 1, unit)));
    add(box, el("p", "muted", comparison.inputs.length + " distinguishing input(s) from " + comparison.inputs_source +
      (comparison.inputs_dropped ? ", " + comparison.inputs_dropped + " malformed dropped" : "")));
    const rows = comparison.inputs.map((input, i) => {
      const a = comparison.first_outputs[i] || {}, b = comparison.second_outputs[i] || {};
      return [input, (a.output || "") + (a.error ? "\n" + a.error : ""), (b.output || "") + (b.error ? "\n" + b.error : "")];
    });
    add(box, table("tests", ["input", "output of " + comparison.representatives[0], "output of " +
      comparison.representatives[1]], rows));
    const orders = [[comparison.first, comparison.second], [comparison.second, comparison.first]];
    comparison.answers.forEach((answer, i) => {
      const line = el("p", null, "Order " + (i + 1) + ": " + unit + " " + orders[i][0] + " shown as A, " + unit +
        " " + orders[i][1] + " as B → judge answered " + (answer || "nothing usable"));
      add(box, line, fold("judge's text", pre(comparison.judgements[i]), false));
    });
    add(box, el("p", comparison.winner === null ? "warn" : "pass", comparison.winner === null
      ? "No winner: the two orders did not pick the same program." : "Winner: " + unit + " " + comparison.winner));
    if (comparison.inputs_completion) add(box, fold("the distinguishing-input answer", pre(comparison.inputs_completion), false));
    return box;
  }

  // Tokens and calls per stage, and when each phase ended (seconds since the start).
  function usageView(trace) {
    const rows = Object.entries(trace.usage).map(([stage, u]) => [stage, String(u.prompt_tokens),
      String(u.completion_tokens), String(u.calls), String(u.cached_calls || 0)]);
    const times = Object.entries(trace.timings).map(([phase, s]) => phase + " " + Number(s).toFixed(1) + " s");
    return add(el("div"), table("usage", ["stage", "prompt tokens", "completion tokens", "calls", "from the store"], rows),
      el("p", "muted", times.length ? "Timings: " + times.join(" · ") : "No timings recorded."));
  }

  function resultLine(row) {
    if (!row) return null;
    if (row.error) return el("p", "warn", "Error: " + row.error);
    if (row.passed === null) return el("p", "muted", "Not graded (no hidden tests).");
    const pool = row.pool_passed === null ? "" : " · pool: " + row.pool_passed + " of " + row.pool_size + " pass";
    return el("p", row.passed ? "pass" : "fail", (row.passed ? "Passed" : "Failed") + " the hidden tests (" +
      row.hidden_passed + "/" + row.hidden_tests + " before the first failure)" + pool +
      (row.stopped ? " · stopped early: " + row.stopped : ""));
  }

  function methodView(method, data) {
    const box = add(el("section", "method"), resultLine(method.row));
    const trace = method.trace;
    if (!trace) return add(box, el("p", "muted", "No trace was kept for this method."));
    const selection = trace.selection;
    add(box, el("h3", null, "Selection"),
      el("p", null, "Rule " + selection.rule + ": " + selection.reason),
      fold("selected program" + (selection.candidate === null ? " (none)" : " (candidate " + selection.candidate + ")"),
        pre(trace.program), true));
    if (trace.voters_excluded.length) {
      add(box, el("p", "muted", "Left out of the vote (failed on every kept input): candidates " +
        trace.voters_excluded.join(", ")));
    }
    if (trace.context_overflows.length) {
      add(box, el("p", "warn", "Prompt did not fit the context in: " + trace.context_overflows.join(", ")));
    }
    add(box, el("h3", null, "Cost"), usageView(trace));
    add(box, el("h3", null, "Execution matrix"), matrixView(trace));
    if (trace.clusters.length) add(box, el("h3", null, "Clusters"), clustersView(trace));
    const planned = trace.comparisons_planned ? " of " + trace.comparisons_planned + " planned" : "";
    add(box, el("h3", null, "Comparisons (" + trace.comparisons.length + planned + ")"));
    if (!trace.comparisons.length) add(box, el("p", "muted", "No pairwise comparison was made."));
    const unit = trace.clusters.length ? "cluster" : "candidate";
    trace.comparisons.forEach((c, i) => box.append(comparisonView(c, i, unit)));
    const clusterOf = new Map();
    trace.clusters.forEach((c) => c.members.forEach((m) => clusterOf.set(m, c.index)));
    const pool = method.pool === null ? [] : data.pools[method.pool];
    add(box, el("h3", null, "Candidates (" + pool.length + ")"));
    for (const candidate of pool) box.append(candidateView(candidate, selection.candidate, clusterOf));
    return box;
  }

  function renderPanel(panel, data) {
    const close = el("button", "close", "close ✕");
    close.type = "button";
    close.addEventListener("click", closePanel);
    add(panel, close, el("h2", null, data.id + (data.title ? " · " + data.title : "")));
    add(panel, data.statement === null ? el("p", "muted", "Statement not in the run (pass --problems FILE).")
      : fold("statement", pre(data.statement, "statement"), true));
    const tabs = el("div", "tabs");
    const holder = el("div");
    add(panel, tabs, holder);
    data.methods.forEach((method, i) => {
      const button = el("button", null, method.method);
      button.type = "button";
      button.setAttribute("aria-selected", "false");
      button.addEventListener("click", () => {
        tabs.querySelectorAll("button").forEach((b) => b.setAttribute("aria-selected", "false"));
        button.setAttribute("aria-selected", "true");
        holder.replaceChildren(methodView(method, data));
      });
      tabs.append(button);
      if (i === 0) button.click();
    });
  }

  // A panel's data: gzipped JSON in base64 (see codestar.report.markup.data_block).
  async function panelData(block) {
    const bytes = Uint8Array.from(atob(block.textContent.trim()), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return JSON.parse(await new Response(stream).text());
  }

  async function openPanel(id, row) {
    const panel = document.getElementById("panel");
    const block = document.getElementById(id);
    if (!panel || !block) return;
    const data = await panelData(block);
    panel.replaceChildren();
    renderPanel(panel, data);
    panel.dataset.shown = id;
    panel.hidden = false;
    panel.scrollTop = 0;
    document.querySelectorAll("#problems tr.open").forEach((r) => r.classList.remove("open"));
    if (row) row.classList.add("open");
  }

  function closePanel() {
    const panel = document.getElementById("panel");
    panel.hidden = true;
    panel.replaceChildren();
    delete panel.dataset.shown;
    document.querySelectorAll("#problems tr.open").forEach((r) => r.classList.remove("open"));
  }

  function words(value) {
    return (value || "").split(" ").filter(Boolean);
  }

  function keep(row, choice, search) {
    if (search && !row.cells[0].textContent.toLowerCase().includes(search)) return false;
    if (choice === "all") return true;
    if (choice === "errors") return row.dataset.error === "1";
    if (choice === "stopped") return row.dataset.stopped === "1";
    if (choice === "no-public") return row.dataset.public === "0";
    if (choice.startsWith("pair:")) {
      const [a, b] = choice.slice(5).split("|");
      return words(row.dataset.solved).includes(a) && words(row.dataset.failed).includes(b);
    }
    return true;
  }

  function applyFilter() {
    const choice = document.getElementById("filter").value;
    const search = document.getElementById("search").value.trim().toLowerCase();
    const rows = document.querySelectorAll("#problems tbody tr");
    let count = 0;
    rows.forEach((row) => {
      const visible = keep(row, choice, search);
      row.hidden = !visible;
      if (visible) count += 1;
    });
    document.getElementById("shown").textContent = count + " of " + rows.length + " problems shown";
  }

  function sortBy(header, index) {
    const tbody = document.querySelector("#problems tbody");
    const ascending = header.getAttribute("aria-sort") !== "ascending";
    header.parentNode.querySelectorAll("th").forEach((th) => th.removeAttribute("aria-sort"));
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const value = (row) => {
      const cell = row.cells[index];
      const number = cell.dataset.sort;
      return number !== undefined ? Number(number) : cell.textContent;
    };
    const rows = Array.from(tbody.rows);
    rows.sort((x, y) => {
      const a = value(x), b = value(y);
      const order = typeof a === "number" ? a - b : String(a).localeCompare(String(b), undefined, { numeric: true });
      return ascending ? order : -order;
    });
    tbody.append(...rows);
  }

  function start() {
    const table = document.getElementById("problems");
    if (table) {
      table.querySelectorAll("thead th").forEach((th, i) => th.addEventListener("click", () => sortBy(th, i)));
      table.querySelector("tbody").addEventListener("click", (event) => {
        const row = event.target.closest("tr");
        if (row) openPanel(row.dataset.panel, row);
      });
      table.querySelector("tbody").addEventListener("keydown", (event) => {
        const row = event.target.closest("tr");
        if (row && event.key === "Enter") openPanel(row.dataset.panel, row);
      });
      document.getElementById("filter").addEventListener("change", applyFilter);
      document.getElementById("search").addEventListener("input", applyFilter);
      document.addEventListener("keydown", (event) => { if (event.key === "Escape") closePanel(); });
      applyFilter();
    }
    const panel = document.getElementById("panel");
    if (panel && panel.dataset.open) {
      document.body.classList.add("single");
      openPanel(panel.dataset.open, null);
    }
  }

  start();
})();
