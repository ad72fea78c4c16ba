/* A stand-in for DingTalk's JSAPI (dingtalk.open.js) in an ordinary browser, served by the zhibu sandbox.
 *
 * A page loads it instead of the real JSAPI:
 *   <script src="http://127.0.0.1:18080/_sandbox/dd-shim.js"></script>
 * and calls dd.runtime.permission.requestAuthCode({corpId, onSuccess, onFail}) or
 * dd.requestAuthCode({corpId, clientId, success, fail}) (which also returns a promise). The code it gets is a
 * real single-use, 5-minute sandbox auth code for the "current sandbox user": the page URL's ?sandbox_user=,
 * else the sandbox_dingtalk_user cookie, else the user baked in when the script was served.
 */
(function () {
  "use strict";
  var cfg = window.__SANDBOX__ || {};

  function cookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }

  function currentUser() {
    var fromUrl = new URLSearchParams(window.location.search).get("sandbox_user");
    return fromUrl || cookie("sandbox_dingtalk_user") || cfg.user || "";
  }

  function fetchCode() {
    var user = currentUser();
    if (!user) {
      return Promise.reject({ errorCode: "-1", errorMessage: "沙箱：不知道当前是谁，请从沙箱聊天页打开链接" });
    }
    return fetch(cfg.base + "/_sandbox/dingtalk/authcode?userid=" + encodeURIComponent(user))
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) {
            throw { errorCode: String(r.status), errorMessage: body.error || "获取免登授权码失败" };
          }
          return { code: body.code };
        });
      });
  }

  function withCallbacks(opts, success, fail) {
    opts = opts || {};
    var p = fetchCode();
    p.then(function (res) {
      (opts[success] || function () {})(res);
      (opts.complete || function () {})(res);
    }, function (err) {
      (opts[fail] || function () {})(err);
      (opts.complete || function () {})(err);
    });
    return p;
  }

  var readyQueue = [];
  var dd = {
    version: "sandbox",
    env: { platform: "pc", version: "sandbox" },
    config: function () {},
    ready: function (fn) {
      readyQueue.push(fn);
      setTimeout(function () { while (readyQueue.length) { readyQueue.shift()(); } }, 0);
    },
    error: function () {},
    getAuthCode: function (opts) { return withCallbacks(opts, "success", "fail"); },
    requestAuthCode: function (opts) { return withCallbacks(opts, "success", "fail"); },
    runtime: {
      permission: {
        requestAuthCode: function (opts) { return withCallbacks(opts, "onSuccess", "onFail"); },
      },
    },
    biz: {
      navigation: {
        setTitle: function (opts) { if (opts && opts.title) { document.title = opts.title; } },
        close: function () { window.close(); },
      },
      util: {
        openLink: function (opts) { if (opts && opts.url) { window.location.href = opts.url; } },
      },
    },
    device: {
      notification: {
        alert: function (opts) { window.alert((opts && opts.message) || ""); if (opts && opts.onSuccess) { opts.onSuccess(); } },
        toast: function (opts) { if (opts && opts.text) { console.log("[dd.toast] " + opts.text); } },
      },
    },
    sandboxUser: currentUser,
  };
  window.dd = dd;
})();
