/* The dev chat console (/dev/chat): plain browser JS, no framework, no build step.
 * Talks to src/http/routes/dev/routes.ts: GET messages + an EventSource per conversation, POST send/action/open/outage.
 * Card HTML comes from the server (cards/simulator, autoescaped); everything else is built with textContent. */
/* global document, window, fetch, EventSource, localStorage, URLSearchParams */
(function () {
  "use strict";

  var STORE_KEY = "chatorder.dev.conversation";
  var URL_RE = /https?:\/\/[^\s<>"'，。；）)]+/g;

  var app = document.getElementById("app");
  var list = document.getElementById("messages");
  var input = document.getElementById("input");
  var sendBtn = document.getElementById("send");
  var compose = document.getElementById("compose");
  var readonly = document.getElementById("readonly");
  var title = document.getElementById("chat-title");
  var sub = document.getElementById("chat-sub");
  var status = document.getElementById("status");
  var toast = document.getElementById("toast");
  var chips = Array.prototype.slice.call(document.querySelectorAll(".dc-chip"));
  var people = Array.prototype.slice.call(document.querySelectorAll(".dc-person"));

  var state = {
    conversation: null, // "user:sales" | "customer:…"
    user: null, // platformUserId when the conversation is a user's; null for a customer's
    source: null, // the EventSource of the current conversation
    items: new Map(), // message id → { at, el }
    opened: new Set(), // users we already sent an "open" event for in this page
  };

  // ---- talking to the server -------------------------------------------------------------

  function api(method, url, body) {
    var init = { method: method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try {
          if (text) data = JSON.parse(text);
        } catch {
          /* not JSON: a proxy's error page; the status says enough */
        }
        if (!res.ok) {
          var message = data && data.error ? data.error.message : "请求失败（" + res.status + "）";
          throw new Error(message);
        }
        return data;
      });
    });
  }

  var toastTimer = null;
  function say(text) {
    toast.textContent = text;
    toast.hidden = false;
    window.clearTimeout(toastTimer);
    toastTimer = window.setTimeout(function () {
      toast.hidden = true;
    }, 3500);
  }

  // ---- drawing messages ------------------------------------------------------------------

  function timeOf(at) {
    var d = new Date(at);
    if (isNaN(d.getTime())) return "";
    var pad = function (n) {
      return (n < 10 ? "0" : "") + n;
    };
    return pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  /** Text with its URLs as links, built node by node so nothing typed ever becomes markup. */
  function linkified(text) {
    var frag = document.createDocumentFragment();
    var last = 0;
    text.replace(URL_RE, function (url, index) {
      if (index > last) frag.appendChild(document.createTextNode(text.slice(last, index)));
      var a = document.createElement("a");
      a.href = url;
      a.textContent = url;
      frag.appendChild(a);
      last = index + url.length;
      return url;
    });
    if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
    return frag;
  }

  function openLinksInNewTab(root) {
    Array.prototype.forEach.call(root.querySelectorAll("a[href]"), function (a) {
      a.target = "_blank";
      a.rel = "noopener noreferrer";
    });
  }

  function bubbleFor(item) {
    var li = document.createElement("li");
    li.className = "dc-msg dc-msg--" + (item.direction === "in" ? "in" : "out");
    li.dataset.id = String(item.id);

    var avatar = document.createElement("span");
    avatar.className = "dc-avatar dc-msg__avatar";
    avatar.setAttribute("aria-hidden", "true");
    avatar.textContent = item.direction === "in" ? (title.textContent || "我").charAt(0) : "单";
    li.appendChild(avatar);

    var body = document.createElement("div");
    body.className = "dc-msg__body";
    var bubble = document.createElement("div");
    if (item.kind === "card") {
      bubble.className = "dc-bubble dc-bubble--card";
      if (item.html) {
        bubble.innerHTML = item.html; // rendered and autoescaped by the server's card template
      } else {
        bubble.classList.add("dc-bubble--broken");
        bubble.textContent = "［卡片无法显示］";
      }
    } else {
      bubble.className = "dc-bubble";
      bubble.appendChild(linkified(item.text || ""));
    }
    openLinksInNewTab(bubble);
    body.appendChild(bubble);

    var time = document.createElement("time");
    time.className = "dc-msg__time";
    time.dateTime = item.at;
    time.textContent = timeOf(item.at);
    body.appendChild(time);
    li.appendChild(body);
    return li;
  }

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  /** Adds a message, or redraws it in place when the card was updated (same id, newer `at`). */
  function upsert(item) {
    var known = state.items.get(item.id);
    if (known && known.at > item.at) return; // an older copy (history fetched while an update streamed in)
    var stick = nearBottom();
    var el = bubbleFor(item);
    if (known) {
      known.el.replaceWith(el);
    } else {
      var after = null;
      state.items.forEach(function (other, id) {
        if (id > item.id && (!after || id < Number(after.dataset.id))) after = other.el;
      });
      list.insertBefore(el, after);
    }
    state.items.set(item.id, { at: item.at, el: el });
    if (stick || !known) list.scrollTop = list.scrollHeight;
  }

  function showEmptyHint() {
    if (state.items.size > 0 || list.querySelector(".dc-empty-chat")) return;
    var li = document.createElement("li");
    li.className = "dc-empty-chat";
    li.textContent = state.user ? "还没有消息。试试下面的快捷消息，比如「帮助」。" : "这个客户还没有收到通知。";
    list.appendChild(li);
  }

  function clearEmptyHint() {
    var hint = list.querySelector(".dc-empty-chat");
    if (hint) hint.remove();
  }

  // ---- one conversation at a time ----------------------------------------------------------

  function setStatus(s) {
    status.dataset.state = s;
    status.textContent = { live: "实时", connecting: "连接中…", retrying: "重连中…", idle: "" }[s] || "";
  }

  function loadHistory(source) {
    var conversation = state.conversation;
    return api("GET", "/dev/chat/messages?" + new URLSearchParams({ conversation: conversation, limit: "200" }))
      .then(function (data) {
        if (source !== state.source) return; // the person changed meanwhile
        data.items.forEach(function (item) {
          clearEmptyHint();
          upsert(item);
        });
        showEmptyHint();
        // First visit to an empty chat: say hello as the platform's "entered the app" event would.
        if (state.user && state.items.size === 0 && !state.opened.has(state.user)) {
          state.opened.add(state.user);
          api("POST", "/dev/chat/open", { user: state.user }).catch(function (err) {
            say(err.message);
          });
        }
      })
      .catch(function (err) {
        say("加载消息失败：" + err.message);
      });
  }

  function connect() {
    if (state.source) state.source.close();
    var source = new EventSource("/dev/chat/stream?" + new URLSearchParams({ conversation: state.conversation }));
    state.source = source;
    setStatus("connecting");
    var onItem = function (e) {
      if (source !== state.source) return;
      try {
        clearEmptyHint();
        upsert(JSON.parse(e.data));
      } catch (err) {
        say("消息解析失败：" + err.message);
      }
    };
    source.addEventListener("message", onItem);
    source.addEventListener("update", onItem);
    // Every (re)connect reloads the history, so nothing sent while we were away is missed.
    source.addEventListener("open", function () {
      if (source !== state.source) return;
      setStatus("live");
      loadHistory(source);
    });
    source.addEventListener("error", function () {
      if (source === state.source) setStatus("retrying");
    });
  }

  function select(button) {
    if (!button) return;
    people.forEach(function (p) {
      p.classList.toggle("is-active", p === button);
      p.setAttribute("aria-current", p === button ? "true" : "false");
    });
    state.conversation = button.dataset.conversation;
    state.user = button.dataset.user || null;
    state.items = new Map();
    list.textContent = "";
    title.textContent = button.dataset.name;
    sub.textContent = button.dataset.roles || "";

    var canType = Boolean(state.user);
    input.disabled = !canType;
    sendBtn.disabled = !canType;
    chips.forEach(function (c) {
      c.disabled = !canType;
    });
    readonly.hidden = canType;
    app.dataset.view = "chat";

    try {
      localStorage.setItem(STORE_KEY, state.conversation);
    } catch {
      /* private mode: remembering is optional */
    }
    if (window.location.hash !== "#" + state.conversation) {
      window.history.replaceState(null, "", "#" + state.conversation);
    }
    connect();
    if (canType) input.focus();
  }

  function fromLocationHash() {
    try {
      return byConversation(decodeURIComponent(window.location.hash.slice(1)));
    } catch {
      return undefined; // a malformed %-escape in a hand-typed link
    }
  }

  function byConversation(conversation) {
    return people.find(function (p) {
      return p.dataset.conversation === conversation;
    });
  }

  // ---- sending -------------------------------------------------------------------------------

  function send(text) {
    text = text.trim();
    if (!text || !state.user) return Promise.resolve();
    sendBtn.disabled = true;
    return api("POST", "/dev/chat/send", { user: state.user, text: text })
      .then(function () {
        if (input.value.trim() === text) input.value = "";
        autosize();
      })
      .catch(function (err) {
        say("发送失败：" + err.message);
      })
      .then(function () {
        sendBtn.disabled = !state.user;
        input.focus();
      });
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 160) + "px";
  }

  /** A card button: its action, its data-values, and the chosen option when it confirms a select. */
  function tap(button) {
    if (!state.user) {
      say("客户会话只能查看，不能操作卡片。");
      return;
    }
    var values = {};
    try {
      var raw = JSON.parse(button.dataset.values || "{}");
      Object.keys(raw).forEach(function (k) {
        values[k] = String(raw[k]);
      });
    } catch {
      values = {};
    }
    var selectName = button.dataset.select;
    if (selectName) {
      var scope = button.closest(".co-card__select") || button.closest(".co-card");
      var chosen = scope && Array.prototype.find.call(scope.querySelectorAll("select"), function (s) {
        return s.name === selectName;
      });
      if (chosen) values[selectName] = chosen.value;
    }
    button.disabled = true;
    api("POST", "/dev/chat/action", { user: state.user, action: button.dataset.action, values: values })
      .catch(function (err) {
        say("操作失败：" + err.message);
      })
      .then(function () {
        // The card is usually redrawn by then; re-enable only if this button is still on the page.
        if (button.isConnected) button.disabled = false;
      });
  }

  // ---- wiring --------------------------------------------------------------------------------

  people.forEach(function (p) {
    p.addEventListener("click", function () {
      select(p);
    });
  });

  list.addEventListener("click", function (e) {
    var button = e.target.closest("button[data-action]");
    if (button && list.contains(button)) {
      e.preventDefault();
      tap(button);
    }
  });

  compose.addEventListener("submit", function (e) {
    e.preventDefault();
    send(input.value);
  });

  input.addEventListener("keydown", function (e) {
    // isComposing: Enter that confirms a Chinese IME candidate must not send the message.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      send(input.value);
    }
  });
  input.addEventListener("input", autosize);

  chips.forEach(function (chip) {
    chip.addEventListener("click", function () {
      send(chip.dataset.text || "");
    });
  });

  document.getElementById("back").addEventListener("click", function () {
    app.dataset.view = "people";
  });

  document.getElementById("outage").addEventListener("submit", function (e) {
    e.preventDefault();
    var count = Number(document.getElementById("outage-count").value);
    api("POST", "/dev/chat/outage", { count: count })
      .then(function (data) {
        say(data.failNext > 0 ? "接下来 " + data.failNext + " 次发送将失败，随后自动重试。" : "已恢复正常发送。");
      })
      .catch(function (err) {
        say("设置失败：" + err.message);
      });
  });

  window.addEventListener("hashchange", function () {
    var wanted = fromLocationHash();
    if (wanted && wanted.dataset.conversation !== state.conversation) select(wanted);
  });

  window.addEventListener("beforeunload", function () {
    if (state.source) state.source.close();
  });

  // Start where the link or the last visit pointed; on a phone with no link, show the people first.
  var fromHash = fromLocationHash();
  var remembered;
  try {
    remembered = byConversation(localStorage.getItem(STORE_KEY));
  } catch {
    /* storage blocked: start from the first person */
  }
  var first = fromHash || remembered || people[0];
  if (first) select(first);
  if (!fromHash) app.dataset.view = "people";
})();
