// Live re-counting on the compose page: while a channel's text is edited, the server counts
// it as the platform does (/admin/compose/count) and the count and look are updated. The
// page works without this script: the "Re-count" button does the same with a page load.
"use strict";
(function () {
  const form = document.getElementById("compose");
  if (!form || !form.dataset.count) return;
  const timers = {};

  async function recount(area) {
    const channel = area.dataset.channel;
    const body = new FormData(form);
    body.set("channel", channel);
    let answer;
    try {
      const response = await fetch(form.dataset.count, { method: "POST", body: body, credentials: "same-origin" });
      answer = await response.json();
    } catch (e) {
      return; // the Re-count button still works
    }
    const count = document.getElementById("count-" + channel);
    const problem = document.getElementById("problem-" + channel);
    const view = document.getElementById("view-" + channel);
    if (count && answer.counts) {
      count.textContent = answer.counts;
      count.classList.toggle("over", Boolean(answer.over || answer.problem));
    }
    if (problem) problem.textContent = answer.problem || "";
    // The server's rendering is escaped and rebuilt from Telegram's entities (postview.py).
    if (view && typeof answer.html === "string") view.innerHTML = answer.html;
  }

  form.addEventListener("input", function (event) {
    const area = event.target;
    if (!(area instanceof HTMLTextAreaElement) || !area.dataset.channel) return;
    clearTimeout(timers[area.dataset.channel]);
    timers[area.dataset.channel] = setTimeout(function () { recount(area); }, 250);
  });
})();
