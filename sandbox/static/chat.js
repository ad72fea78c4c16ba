/* The sandbox chat page: play any member on either platform. Plain JS, no build step. */
(function () {
  "use strict";

  var ROLE_ORDER = ["书记", "党委书记", "副书记", "党委副书记", "党委组织委员", "组织委员", "宣传委员", "纪检委员",
    "支部联系人", "党费收缴员", "观察员", "组织部", "党员", "预备党员"];
  var state = {
    platform: "dingtalk",
    user: null,
    conversation: "single",
    directory: null,
    lastRender: "",
    pollTimer: null,
  };
  var $ = function (id) { return document.getElementById(id); };

  // ------------------------------------------------------------ helpers

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function safeUrl(u) {
    u = String(u || "").trim();
    // DingTalk links wrapped so that the client opens them in-app: unwrap to the page itself.
    var m = u.match(/^dingtalk:\/\/dingtalkclient\/page\/link\?(.*)$/i);
    if (m) { u = new URLSearchParams(m[1]).get("url") || ""; }
    return /^(https?:\/\/|\/)/i.test(u) ? u : "";
  }

  function openUrl(u) {
    // Links open as the person being played: the sandbox sets who is browsing, then redirects.
    var url = safeUrl(u);
    if (!url) { return "#"; }
    return "/_sandbox/open?platform=" + encodeURIComponent(state.platform) + "&user=" +
      encodeURIComponent(state.user || "") + "&url=" + encodeURIComponent(url);
  }

  function inline(text) {
    var out = esc(text);
    out = out.replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, function (_, alt, u) {
      var url = safeUrl(u.replace(/&amp;/g, "&"));
      return url ? '<img alt="' + alt + '" src="' + esc(url) + '">' : "";
    });
    out = out.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, function (_, label, u) {
      return '<a target="_blank" rel="noopener" href="' + esc(openUrl(u.replace(/&amp;/g, "&"))) + '">' + label + "</a>";
    });
    out = out.replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>");
    out = out.replace(/(^|[^"'=>])(https?:\/\/[^\s<]+)/g, function (_, pre, u) {
      return pre + '<a target="_blank" rel="noopener" href="' + esc(openUrl(u.replace(/&amp;/g, "&"))) + '">' + u + "</a>";
    });
    return out;
  }

  // WeCom's markdown message renders headings, bold, links, code and quotes but no lists: an item
  // shows as the line it is.
  function markdown(text) {
    var lists = state.platform !== "wecom";
    var lines = String(text || "").split(/\n/);
    var html = [], list = false, para = [];
    function flush() {
      if (para.length) { html.push("<p>" + para.join("<br>") + "</p>"); para = []; }
    }
    lines.forEach(function (line) {
      var m;
      if ((m = line.match(/^\s*#{1,6}\s+(.*)$/))) {
        flush(); if (list) { html.push("</ul>"); list = false; }
        html.push("<h4>" + inline(m[1]) + "</h4>");
      } else if (lists && (m = line.match(/^\s*(?:[-*]|\d+\.)\s+(.*)$/))) {
        flush(); if (!list) { html.push("<ul>"); list = true; }
        html.push("<li>" + inline(m[1]) + "</li>");
      } else if (!line.trim()) {
        flush(); if (list) { html.push("</ul>"); list = false; }
      } else {
        if (list) { html.push("</ul>"); list = false; }
        para.push(inline(line));
      }
    });
    flush(); if (list) { html.push("</ul>"); }
    return html.join("");
  }

  function toast(msg) {
    var t = $("toast");
    t.textContent = msg;
    t.classList.add("show");
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { t.classList.remove("show"); }, 3500);
  }

  function api(method, path, body) {
    return fetch(path, {
      method: method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { throw new Error(data.reason || data.error || ("请求失败 " + r.status)); }
        return data;
      });
    });
  }

  function initials(name) { return String(name || "?").slice(-2); }

  function fmtTime(ts) {
    var d = new Date(ts * 1000);
    var p = function (n) { return (n < 10 ? "0" : "") + n; };
    return (d.getMonth() + 1) + "月" + d.getDate() + "日 " + p(d.getHours()) + ":" + p(d.getMinutes());
  }

  // ------------------------------------------------------------ directory

  function people() {
    var d = state.directory && state.directory[state.platform];
    return d ? d.users : [];
  }

  function currentPerson() {
    return people().filter(function (u) { return u.userid === state.user; })[0] || null;
  }

  function renderPeople() {
    var nav = $("people");
    var q = $("search").value.trim().toLowerCase();
    var list = people().filter(function (u) {
      return !q || u.name.toLowerCase().indexOf(q) >= 0 || u.userid.toLowerCase().indexOf(q) >= 0;
    });
    if (!state.directory || !state.directory[state.platform]) {
      nav.innerHTML = '<div class="group-label">这个模拟环境没有配置' + (state.platform === "wecom" ? "企业微信" : "钉钉") + "。</div>";
      return;
    }
    var groups = {};
    list.forEach(function (u) { (groups[u.role || "成员"] = groups[u.role || "成员"] || []).push(u); });
    var roles = Object.keys(groups).sort(function (a, b) {
      var ia = ROLE_ORDER.indexOf(a), ib = ROLE_ORDER.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b, "zh");
    });
    nav.innerHTML = roles.map(function (role) {
      return '<div class="group-label">' + esc(role) + "（" + groups[role].length + "）</div>" +
        groups[role].map(function (u) {
          return '<button class="person' + (u.userid === state.user ? " active" : "") + (u.in_range ? "" : " outside") +
            '" data-user="' + esc(u.userid) + '"><span class="avatar">' + esc(initials(u.name)) + "</span>" +
            '<span class="meta"><span>' + esc(u.name) + (u.in_range ? "" : '<span class="tag">不在应用可见范围</span>') +
            '</span><span class="sub">' + esc(u.userid) + "</span></span></button>";
        }).join("");
    }).join("") || '<div class="group-label">没有找到这个人</div>';
  }

  function renderHead() {
    var p = currentPerson();
    var head = $("chat-head");
    if (!p) {
      head.innerHTML = '<div class="empty-head">请在左侧选择一位成员，以他的身份和机器人聊天</div>';
      return;
    }
    var groups = (state.directory[state.platform].groups || []).filter(function (g) {
      return g.members.indexOf(p.userid) >= 0;
    });
    var options = '<option value="single">与机器人单聊</option>' + groups.map(function (g) {
      return '<option value="' + esc(g.id) + '"' + (g.id === state.conversation ? " selected" : "") + ">群聊：" + esc(g.title) + "</option>";
    }).join("");
    head.innerHTML = '<span class="avatar">' + esc(initials(p.name)) + '</span><div><div class="who">' + esc(p.name) +
      (p.role ? '<span class="tag">' + esc(p.role) + "</span>" : "") + '</div><div class="note">' +
      (state.platform === "wecom" ? "企业微信" : "钉钉") + " · " + esc(p.userid) + "</div></div>" +
      '<select id="conversation" aria-label="会话">' + options + "</select>";
    $("conversation").value = state.conversation;
    $("conversation").onchange = function (e) {
      state.conversation = e.target.value;
      state.lastRender = "";
      refreshComposer();
      syncUrl();
      poll();
    };
  }

  function selectPlatform(p) {
    state.platform = p;
    document.body.classList.toggle("wecom", p === "wecom");
    Array.prototype.forEach.call(document.querySelectorAll(".platform"), function (b) {
      b.classList.toggle("active", b.getAttribute("data-platform") === p);
    });
    if (state.user && !currentPerson()) { state.user = null; }
    state.conversation = "single";
    state.lastRender = "";
    renderPeople();
    renderHead();
    refreshComposer();
    syncUrl();
    poll();
  }

  function selectUser(uid) {
    state.user = uid;
    state.conversation = "single";
    state.lastRender = "";
    document.cookie = "sandbox_user=" + encodeURIComponent(uid) + "; path=/; SameSite=Lax";
    document.cookie = "sandbox_" + state.platform + "_user=" + encodeURIComponent(uid) + "; path=/; SameSite=Lax";
    document.cookie = "sandbox_platform=" + state.platform + "; path=/; SameSite=Lax";
    renderPeople();
    renderHead();
    refreshComposer();
    syncUrl();
    poll();
    $("composer-input").focus();
  }

  function refreshComposer() {
    var p = currentPerson();
    var can = !!p && (p.in_range || state.conversation !== "single");
    $("composer-input").disabled = !can;
    $("send").disabled = !can;
    $("composer-input").placeholder = !p ? "先在左侧选择一位成员" :
      can ? "以" + p.name + "的身份输入消息，按回车发送" : p.name + "不在应用可见范围，无法和机器人单聊";
  }

  function syncUrl() {
    var params = new URLSearchParams({ platform: state.platform });
    if (state.user) { params.set("user", state.user); }
    if (state.conversation !== "single") { params.set("conversation", state.conversation); }
    history.replaceState(null, "", "?" + params.toString());
  }

  // ------------------------------------------------------------ timeline

  function renderCard(item) {
    var c = item.card;
    var html = '<div class="card" data-card="' + esc(c.card_id) + '">';
    if (state.platform === "wecom" && c.card_type) { html += '<div class="card-source">应用消息 · 模板卡片</div>'; }
    if (c.title) { html += '<div class="card-title">' + esc(c.title) + "</div>"; }
    // A WeCom template card's texts are plain text: WeCom shows markdown marks as they are.
    if (c.text) { html += '<div class="card-body">' + (c.markdown ? markdown(c.text) : esc(c.text).replace(/\n/g, "<br>")) + "</div>"; }
    (c.images || []).forEach(function (u) { if (safeUrl(u)) { html += '<div class="card-body"><img alt="" src="' + esc(u) + '"></div>'; } });
    var fields = c.fields || {};
    var keys = Object.keys(fields);
    if (keys.length) {
      html += '<div class="card-fields">' + keys.map(function (k) {
        return "<div>" + esc(fields[k]) + "</div>";
      }).join("") + "</div>";
    }
    if (c.replaced_name) {
      html += '<div class="card-done">' + esc(c.replaced_name) + "</div>";
    } else if ((c.buttons || []).length) {
      html += '<div class="card-actions">' + c.buttons.map(function (b, i) {
        if (b.url && !b.action_id && !b.key) {
          return '<a class="btn" target="_blank" rel="noopener" href="' + esc(openUrl(b.url)) + '">' + esc(b.text) + "</a>";
        }
        return '<button type="button" class="' + (i === 0 ? "primary" : "") + '" data-press="' + i + '" data-card="' +
          esc(c.card_id) + '">' + esc(b.text) + "</button>";
      }).join("") + "</div>";
    }
    if (c.link) { html += '<div class="card-actions"><a class="btn" target="_blank" rel="noopener" href="' + esc(openUrl(c.link)) + '">查看详情</a></div>'; }
    return html + "</div>";
  }

  var LINK_CARDS = ["textcard", "news", "link", "actionCard", "action_card", "oa", "feedCard"];

  function renderLinkCard(item) {
    // Messages whose buttons open pages (textcard, actionCard, link …) look like cards, as in the clients.
    var html = '<div class="card">';
    if (item.title) { html += '<div class="card-title">' + esc(item.title) + "</div>"; }
    if (item.text) {
      html += '<div class="card-body">' + (item.markdown ? markdown(item.text) : inline(item.text).replace(/\n/g, "<br>")) + "</div>";
    }
    var shown = item.markdown ? [] : (item.images || []);
    shown.forEach(function (u) { if (safeUrl(u)) { html += '<div class="card-body"><img alt="" src="' + esc(u) + '"></div>'; } });
    var links = (item.buttons || []).filter(function (b) { return b.url; });
    if (links.length) {
      html += '<div class="card-actions">' + links.map(function (b) {
        return '<a class="btn" target="_blank" rel="noopener" href="' + esc(openUrl(b.url)) + '">' + esc(b.text || "打开") + "</a>";
      }).join("") + "</div>";
    }
    return html + "</div>";
  }

  function renderOut(item) {
    if (item.card) { return renderCard(item); }
    if (LINK_CARDS.indexOf(item.msgtype) >= 0) { return renderLinkCard(item); }
    var html;
    if (item.markdown || item.msgtype === "markdown") {
      html = '<div class="bubble md">' + (item.title && item.msgtype !== "markdown" ? "<h4>" + esc(item.title) + "</h4>" : "") + markdown(item.text) + "</div>";
    } else if (item.msgtype === "image") {
      html = '<div class="bubble">' + (item.images || []).map(function (u) {
        return safeUrl(u) ? '<img alt="图片" src="' + esc(u) + '">' : "";
      }).join("") + "</div>";
    } else {
      html = '<div class="bubble">' + (item.title ? "<strong>" + esc(item.title) + "</strong>\n" : "") + inline(item.text) + "</div>";
    }
    var extraImages = item.msgtype === "image" || item.markdown ? [] : (item.images || []);
    extraImages.forEach(function (u) { if (safeUrl(u)) { html += '<div class="bubble"><img alt="" src="' + esc(u) + '"></div>'; } });
    var links = (item.buttons || []).filter(function (b) { return b.url; });
    if (links.length) {
      html += '<div class="card"><div class="card-actions">' + links.map(function (b) {
        return '<a class="btn" target="_blank" rel="noopener" href="' + esc(openUrl(b.url)) + '">' + esc(b.text || "打开") + "</a>";
      }).join("") + "</div></div>";
    }
    return html;
  }

  function renderTimeline(data) {
    var box = $("messages");
    var p = currentPerson();
    if (!p) { return; }
    var key = JSON.stringify(data.items);
    if (key === state.lastRender) { return; }
    state.lastRender = key;
    var atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    if (!data.items.length) {
      box.innerHTML = '<div class="welcome"><h2>和支部助手聊聊</h2><p>你现在是 <strong>' + esc(p.name) +
        "</strong>。发送“帮助”看看机器人能做什么；机器人发给" + esc(p.name) + "的通知和卡片也会出现在这里。</p></div>";
      return;
    }
    var html = "", lastTime = 0;
    data.items.forEach(function (item) {
      if (item.time - lastTime > 300) { html += '<div class="time-sep">' + fmtTime(item.time) + "</div>"; }
      lastTime = item.time;
      if (item.dir === "in") {
        var text = item.kind === "card_action" || item.kind === "template_card_event"
          ? "点击了卡片按钮「" + (item.text || "按钮") + "」" : item.text;
        html += '<div class="row in" data-seq="' + item.seq + '"><span class="avatar">' + esc(initials(item.from_name)) +
          '</span><div class="stack">' + (state.conversation !== "single" ? '<div class="name">' + esc(item.from_name) + "</div>" : "") +
          '<div class="bubble' + (item.kind === "card_action" || item.kind === "template_card_event" ? " note-bubble" : "") + '">' +
          esc(text) + "</div>" + (item.ok ? "" : '<div class="note err">未送达' + (item.reason ? "：" + esc(item.reason) : "") + "</div>") +
          "</div></div>";
      } else {
        html += '<div class="row out" data-seq="' + item.seq + '"><span class="avatar bot">支</span><div class="stack">' +
          '<div class="name">支部助手</div>' + renderOut(item) + "</div></div>";
      }
    });
    box.innerHTML = html;
    if (atBottom || !state.scrolledOnce) { box.scrollTop = box.scrollHeight; state.scrolledOnce = true; }
  }

  function poll() {
    clearTimeout(state.pollTimer);
    var done = function () { state.pollTimer = setTimeout(poll, 1000); };
    if (!state.user) { done(); return; }
    var q = "?platform=" + encodeURIComponent(state.platform) + "&user=" + encodeURIComponent(state.user) +
      "&conversation=" + encodeURIComponent(state.conversation);
    api("GET", "/_sandbox/chat" + q).then(renderTimeline).catch(function () {}).then(done);
  }

  function pollStatus() {
    api("GET", "/_sandbox/health").then(function (h) {
      var el = $("bot-status");
      if (state.platform === "dingtalk") {
        el.className = "bot-status " + (h.connections ? "on" : "off");
        el.textContent = h.connections ? "钉钉机器人在线（Stream 已连接）" : "钉钉机器人不在线：消息发不出去";
      } else {
        var url = state.directory && state.directory.wecom && state.directory.wecom.callback_url;
        el.className = "bot-status " + (url ? "on" : "off");
        el.textContent = url ? "企业微信回调：" + url : "企业微信没有配置回调地址";
      }
    }).catch(function () {
      $("bot-status").className = "bot-status off";
      $("bot-status").textContent = "模拟服务器没有响应";
    }).then(function () { setTimeout(pollStatus, 3000); });
  }

  // ------------------------------------------------------------ events

  document.addEventListener("click", function (e) {
    var person = e.target.closest(".person");
    if (person) { selectUser(person.getAttribute("data-user")); return; }
    var tab = e.target.closest(".platform");
    if (tab) { selectPlatform(tab.getAttribute("data-platform")); return; }
    var press = e.target.closest("button[data-press]");
    if (press) {
      press.disabled = true;
      api("POST", "/_sandbox/chat/press", {
        platform: state.platform, user: state.user, card_id: press.getAttribute("data-card"),
        button: Number(press.getAttribute("data-press")),
      }).then(function () { toast("已点击「" + press.textContent + "」"); poll(); })
        .catch(function (err) { toast(err.message); press.disabled = false; });
    }
  });

  $("search").addEventListener("input", renderPeople);

  // The composer grows with its text (up to 40% of the window) so a multi-line form stays readable.
  function fitComposer() {
    var input = $("composer-input");
    input.style.height = "auto";
    input.style.height = input.scrollHeight + 2 + "px";
  }

  $("composer-input").addEventListener("input", fitComposer);

  // Enter sends, Shift+Enter adds a new line (the textarea's own behaviour), as in DingTalk and WeCom;
  // Enter with another modifier does nothing, and Enter that confirms an input method's candidate
  // (Chinese IME) is left to the input method.
  $("composer-input").addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey || e.isComposing || e.keyCode === 229) {
      return;
    }
    e.preventDefault();
    $("composer").requestSubmit();
  });

  $("composer").addEventListener("submit", function (e) {
    e.preventDefault();
    var input = $("composer-input");
    var text = input.value.trim();
    if (!text || !state.user) { return; }
    input.value = "";
    fitComposer();
    api("POST", "/_sandbox/chat/send", {
      platform: state.platform, user: state.user, conversation: state.conversation, text: text,
    }).then(function () { poll(); }).catch(function (err) { toast(err.message); input.value = text; fitComposer(); });
  });

  // ------------------------------------------------------------ start

  api("GET", "/_sandbox/directory").then(function (dir) {
    state.directory = dir;
    var params = new URLSearchParams(location.search);
    var platform = params.get("platform") || (dir.dingtalk ? "dingtalk" : "wecom");
    selectPlatform(platform);
    if (params.get("user")) {
      selectUser(params.get("user"));
      if (params.get("conversation")) { state.conversation = params.get("conversation"); renderHead(); syncUrl(); poll(); }
    }
    pollStatus();
  }).catch(function () { toast("无法读取通讯录"); });
})();
