// Chat page for the sockwasm chat example.
//
// Protocol (see examples/chat): `join {room}` and `leave {room}` with an ack,
// `say {room, text}` broadcast to the other members as `said {room, from, text}`,
// and `left {room, id, reason}` when a member disconnects. The sender's name
// travels inside the text as "name: message".
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var ui = {
    status: $("status"),
    joinView: $("join-view"),
    joinForm: $("join-form"),
    name: $("name"),
    room: $("room"),
    joinButton: $("join"),
    joinError: $("join-error"),
    chatView: $("chat-view"),
    roomName: $("room-name"),
    me: $("me"),
    leave: $("leave"),
    messages: $("messages"),
    sayForm: $("say-form"),
    text: $("text"),
  };

  var ACK_TIMEOUT = 5000;
  var state = { name: "", room: "", joined: false };
  var names = new Map(); // socket id -> last name seen in its messages

  var socket = io(); // same origin, path /socket.io/

  // ---- helpers ---------------------------------------------------------------

  function setStatus(kind, label) {
    ui.status.dataset.state = kind;
    ui.status.textContent = label;
  }

  function setView(view) {
    document.body.dataset.view = view;
    ui.joinView.hidden = view !== "join";
    ui.chatView.hidden = view !== "chat";
  }

  function timeLabel(d) {
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function atBottom() {
    var m = ui.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 40;
  }

  function append(li) {
    var stick = atBottom();
    ui.messages.appendChild(li);
    if (stick) ui.messages.scrollTop = ui.messages.scrollHeight;
  }

  // "name: message" -> {name, body}; anything else has no name.
  function parseText(text) {
    var i = text.indexOf(": ");
    if (i > 0 && i <= 32) return { name: text.slice(0, i), body: text.slice(i + 2) };
    return { name: "", body: text };
  }

  function addMessage(opts) {
    var li = document.createElement("li");
    li.className = "msg" + (opts.mine ? " mine" : "");
    if (opts.from) li.dataset.from = opts.from;
    var meta = document.createElement("div");
    meta.className = "meta";
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = opts.name || "anonymous";
    var when = document.createElement("time");
    when.textContent = timeLabel(new Date());
    meta.append(who, when);
    var body = document.createElement("div");
    body.className = "body";
    body.textContent = opts.body;
    li.append(meta, body);
    append(li);
    return li;
  }

  function addNotice(text, kind) {
    var li = document.createElement("li");
    li.className = "notice" + (kind ? " " + kind : "");
    li.textContent = text;
    append(li);
    return li;
  }

  function emitAck(event, payload) {
    return new Promise(function (resolve, reject) {
      socket.timeout(ACK_TIMEOUT).emit(event, payload, function (err, res) {
        if (err) reject(new Error("no answer from the server"));
        else resolve(res);
      });
    });
  }

  function cleanName(s) {
    return s.replace(/:/g, "").replace(/\s+/g, " ").trim().slice(0, 32);
  }

  // ---- joining and leaving -----------------------------------------------------

  function join(room) {
    return emitAck("join", { room: room }).then(function (res) {
      if (!res || !res.ok) throw new Error(res && res.error ? res.error : "could not join");
      return res;
    });
  }

  function showJoinError(msg) {
    ui.joinError.textContent = msg;
    ui.joinError.hidden = !msg;
  }

  ui.joinForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var name = cleanName(ui.name.value);
    var room = ui.room.value.trim();
    if (!name) return showJoinError("Please enter a name.");
    if (!room || room.length > 128) return showJoinError("Room names have 1 to 128 characters.");
    showJoinError("");
    ui.joinButton.disabled = true;
    join(room).then(function (res) {
      state.name = name;
      state.room = room;
      state.joined = true;
      try { localStorage.setItem("sockwasm-chat-name", name); } catch (_) { /* private mode */ }
      ui.messages.textContent = "";
      ui.roomName.textContent = room;
      ui.me.textContent = "as " + name;
      setView("chat");
      var others = res.size - 1;
      addNotice("You joined #" + room + " — " + (others === 0 ? "nobody else is here yet." :
        others === 1 ? "1 other person is here." : others + " other people are here."));
      ui.text.focus();
    }).catch(function (err) {
      showJoinError("Could not join: " + err.message);
    }).finally(function () {
      ui.joinButton.disabled = false;
    });
  });

  ui.leave.addEventListener("click", function () {
    var room = state.room;
    state.joined = false;
    state.room = "";
    names.clear();
    setView("join");
    if (socket.connected) emitAck("leave", { room: room }).catch(function () { /* gone anyway */ });
  });

  // ---- sending and receiving -----------------------------------------------------

  ui.sayForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = ui.text.value.trim();
    if (!body || !state.joined) return;
    ui.text.value = "";
    var li = addMessage({ name: state.name, body: body, mine: true });
    li.classList.add("pending");
    emitAck("say", { room: state.room, text: state.name + ": " + body }).then(function (res) {
      li.classList.remove("pending");
      if (!res || !res.ok) throw new Error(res && res.error ? res.error : "not delivered");
    }).catch(function (err) {
      li.classList.remove("pending");
      li.classList.add("failed");
      li.title = err.message;
    });
  });

  socket.on("said", function (msg) {
    if (!state.joined || !msg || msg.room !== state.room) return;
    var parsed = parseText(String(msg.text));
    if (parsed.name) names.set(msg.from, parsed.name);
    addMessage({ name: parsed.name, body: parsed.body, from: msg.from });
  });

  socket.on("left", function (msg) {
    if (!state.joined || !msg || msg.room !== state.room) return;
    var who = names.get(msg.id) || "Someone";
    names.delete(msg.id);
    addNotice(who + " left" + (msg.reason ? " (" + msg.reason + ")" : "") + ".", "left");
  });

  // ---- connection state ----------------------------------------------------------

  socket.on("connect", function () {
    setStatus("online", "online");
    if (state.joined) {
      // a new connection starts in no room: join again
      join(state.room).then(function () {
        addNotice("Reconnected.");
      }).catch(function (err) {
        addNotice("Could not rejoin #" + state.room + ": " + err.message, "error");
      });
    }
  });

  socket.on("disconnect", function (reason) {
    setStatus("offline", "offline");
    if (state.joined) addNotice("Connection lost (" + reason + ")…", "error");
    if (reason === "io server disconnect") socket.connect();
  });

  socket.on("connect_error", function (err) {
    setStatus("offline", "cannot connect: " + err.message);
  });

  // ---- start -------------------------------------------------------------------

  try { ui.name.value = localStorage.getItem("sockwasm-chat-name") || ""; } catch (_) { /* private mode */ }
  if (location.hash.length > 1) ui.room.value = decodeURIComponent(location.hash.slice(1));
  setView("join");
  (ui.name.value ? ui.room : ui.name).focus();
})();
