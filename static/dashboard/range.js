// The time-range picker above a page's charts (templates/dashboard/_range_picker.html), shared by the device
// page (device_range.js) and the fleet page (fleet.js). "live" (the default) is the page's own live window;
// 1 h, 6 h, 24 h and 7 d end now; "custom" is the from/to the user types, a fixed picture.
//
// EO.rangePicker(picker, {target, load, live}) calls live() when "live" is picked, and
// load(since, until, {value, endsNow, current}) for any other range: it fetches and draws that range and may
// return the words the picker shows beside it ("loading…" meanwhile, the error if it throws). current() is
// false once another range was picked meanwhile (an answer that comes late must not be drawn). target's
// data-range is the value picked, at once (a page's live drawing holds still while it is not "live").
// It returns {value, reload}: reload() asks again for the range picked (after a reconnect, say).
(function () {
  "use strict";
  const EO = (window.EO = window.EO || {});
  const HOURS = { "1h": 1, "6h": 6, "24h": 24, "7d": 168 };

  EO.rangePicker = function (picker, handlers) {
    const select = picker.querySelector("select");
    const custom = picker.querySelector(".range-custom");
    const state = picker.querySelector(".range-state");
    const field = (name) => picker.querySelector("input[name=" + name + "]");
    let asked = 0; // picks so far: an answer to an older one is dropped

    function bounds(value) {
      if (HOURS[value]) {
        const until = new Date();
        return [new Date(until - HOURS[value] * 3600e3), until];
      }
      const since = new Date(field("since").value), until = new Date(field("until").value);
      if (isNaN(since) || isNaN(until) || since >= until) throw new Error("Pick a start before the end.");
      return [since, until];
    }

    async function pick() {
      const value = select.value;
      const mine = ++asked;
      custom.hidden = value !== "custom";
      if (handlers.target) handlers.target.dataset.range = value;
      if (value === "live") {
        state.textContent = "";
        handlers.live();
        return;
      }
      let since, until;
      try {
        [since, until] = bounds(value);
      } catch (e) {
        state.textContent = e.message;
        return;
      }
      state.textContent = "loading…";
      const current = () => mine === asked;
      try {
        const said = await handlers.load(since, until, { value: value, endsNow: value !== "custom", current: current });
        if (current()) state.textContent = said || "";
      } catch (e) {
        if (current()) state.textContent = "could not load the range: " + e.message;
      }
    }

    picker.addEventListener("change", pick); // the menu, and the custom range's from and to
    return { value: () => select.value, reload: pick };
  };

  // A bucket's width in words: "30 s", "12 min", "2 h".
  EO.duration = function (seconds) {
    if (seconds >= 3600 && seconds % 3600 === 0) return seconds / 3600 + " h";
    return seconds >= 60 ? Math.round(seconds / 60) + " min" : Math.round(seconds) + " s";
  };
})();
