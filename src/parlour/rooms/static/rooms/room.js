// The built-in room: first the media check (V3), then the call, browser to browser (WebRTC),
// introduced to each other over Parlour's websocket (rooms/consumers.py; its docstring has
// the protocol). The expert's browser makes the offers; the client's takes the newest one.
// Everything that is said to the person comes from the page (#room-strings), translated.
// window.parlourRoom = {pc, state, ...} is there for diagnostics (and the browser tests), and
// so are the room element's data-stage, data-connection (the RTCPeerConnection's state) and
// data-signaling (open once Parlour has let this page into the room).
(function () {
  "use strict";

  const CHECK_SECONDS = 1.5; // how long the check listens before it says what it found
  const FINAL_CLOSES = {
    4403: ["refused", "refused"],
    4408: ["replaced", "replaced"],
    4409: ["not-open", "closed"],
    4410: ["ended", "ended"],
  };

  const byId = (id) => document.getElementById(id);
  const root = byId("room");
  const strings = {};
  for (const element of root.querySelectorAll("#room-strings [data-string]")) {
    strings[element.dataset.string] = element.textContent.trim();
  }
  const iceServers = JSON.parse(byId("ice-servers").textContent);
  const room = { pc: null, state: "check", side: root.dataset.side, check: null, socket: null };
  window.parlourRoom = room;

  let stream = null; // the camera and microphone, from the check on into the call
  let meter = null;
  let socket = null;
  let closing = false; // the call is over here: no reconnecting
  let retries = 0;
  let queue = Promise.resolve(); // the server's messages, handled one after the other
  let pendingCandidates = [];
  let offerRetries = 0; // new offers after a failed connection, since the other side came
  const MAX_OFFER_RETRIES = 3;

  function setState(state) {
    room.state = state;
    root.dataset.stage = state;
  }

  // --- the media check (V3) ------------------------------------------------------------

  const errorName = (error) => (error && /^[A-Za-z]{1,40}$/.test(error.name) ? error.name : "Error");

  async function openDevices() {
    // Both at once; when that fails for another reason than permission, each alone, to
    // tell which of the two does not work.
    const devices = navigator.mediaDevices;
    if (!devices || !devices.getUserMedia) {
      return { stream: null, camera: "NotSupportedError", microphone: "NotSupportedError" };
    }
    try {
      return { stream: await devices.getUserMedia({ video: true, audio: true }), camera: "ok", microphone: "ok" };
    } catch (error) {
      const name = errorName(error);
      if (name === "NotAllowedError" || name === "SecurityError") {
        return { stream: null, camera: "NotAllowedError", microphone: "NotAllowedError" };
      }
      const found = { stream: new MediaStream(), camera: name, microphone: name };
      for (const [kind, device] of [["video", "camera"], ["audio", "microphone"]]) {
        try {
          const alone = await devices.getUserMedia({ [kind]: true });
          alone.getTracks().forEach((track) => found.stream.addTrack(track));
          found[device] = "ok";
        } catch (error) {
          found[device] = errorName(error);
        }
      }
      if (!found.stream.getTracks().length) found.stream = null;
      return found;
    }
  }

  function startMeter(source) {
    stopMeter();
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    const context = new Context();
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    context.createMediaStreamSource(source).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const element = byId("level");
    const bar = element.querySelector(".meter-bar");
    meter = { context, max: 0, timer: 0 };
    meter.timer = setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const sample of samples) sum += sample * sample;
      // Root mean square, scaled so that speaking near the microphone fills about half.
      const level = Math.min(1, Math.sqrt(sum / samples.length) * 4);
      meter.max = Math.max(meter.max, level);
      bar.style.width = `${Math.round(level * 100)}%`;
      element.setAttribute("aria-valuenow", String(Math.round(level * 100)));
    }, 60);
    if (context.state === "suspended") {
      // Some browsers start sound only after the person has done something on the page.
      const resume = () => context.resume();
      document.addEventListener("pointerdown", resume, { once: true });
      document.addEventListener("keydown", resume, { once: true });
      context.resume();
    }
  }

  function stopMeter() {
    if (!meter) return;
    clearInterval(meter.timer);
    meter.context.close();
    meter = null;
  }

  function stopStream() {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
  }

  function showCheck(result, summary, found) {
    const status = byId("check-status");
    status.dataset.result = result;
    delete status.dataset.saved;
    byId("check-not-saved").hidden = true;
    byId("check-summary").textContent = summary;
    const list = byId("check-devices");
    list.replaceChildren();
    for (const device of ["camera", "microphone"]) {
      const answer = found[device];
      if (!answer) continue;
      const item = document.createElement("li");
      item.dataset.device = device;
      item.dataset.answer = answer;
      item.textContent = `${strings[device]}: ${strings[answer] || strings["other-error"]}`;
      list.append(item);
    }
  }

  async function runCheck() {
    setState("check");
    byId("check-retry").hidden = true;
    byId("join").disabled = true;
    stopMeter();
    stopStream();
    showCheck("pending", strings.checking, {});
    const found = await openDevices();
    stream = found.stream;
    byId("preview").srcObject = stream;
    let level = null;
    if (found.microphone === "ok") {
      startMeter(stream);
      showCheck("pending", strings.listening, {});
      await new Promise((resolve) => setTimeout(resolve, CHECK_SECONDS * 1000));
      level = meter ? Math.round(meter.max * 1000) / 1000 : null;
    }
    const passed = found.camera === "ok" && found.microphone === "ok";
    showCheck(passed ? "passed" : "failed", passed ? strings.passed : strings.failed, found);
    room.check = { camera: found.camera, microphone: found.microphone, level, saved: null };
    setState("ready");
    byId("check-retry").hidden = passed;
    byId("join").disabled = false;
    await saveCheck(room.check);
  }

  async function saveCheck(check) {
    const body = { camera: check.camera, microphone: check.microphone };
    if (check.level !== null) body.level = check.level;
    const status = byId("check-status");
    try {
      const response = await fetch(root.dataset.mediaCheckUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": root.dataset.csrfToken },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      check.saved = (await response.json()).result;
      status.dataset.saved = check.saved;
    } catch (error) {
      check.saved = "error";
      status.dataset.saved = "error";
      byId("check-not-saved").hidden = false;
      byId("check-retry").hidden = false;
    }
  }

  // --- the call ------------------------------------------------------------------------

  function say(text, tone) {
    const status = byId("call-status");
    status.textContent = text;
    status.dataset.tone = tone || "info";
  }

  function joinCall() {
    if (root.dataset.continueUrl) {
      // Another platform holds the call (Jitsi Meet): free the camera and go on to it.
      stopMeter();
      stopStream();
      window.location.assign(root.dataset.continueUrl);
      return;
    }
    stopMeter();
    byId("check").hidden = true;
    byId("call").hidden = false;
    byId("local").srcObject = stream;
    for (const [id, kind] of [["mute", "audio"], ["camera", "video"]]) {
      byId(id).disabled = !(stream && stream.getTracks().some((track) => track.kind === kind));
    }
    setState("waiting");
    say(strings.waiting);
    (byId("mute").disabled ? byId("leave") : byId("mute")).focus();
    connectSocket();
  }

  function toggleTracks(button, kind) {
    const off = button.getAttribute("aria-pressed") !== "true";
    if (stream) stream.getTracks().filter((track) => track.kind === kind).forEach((track) => (track.enabled = !off));
    button.setAttribute("aria-pressed", String(off));
  }

  function connectSocket() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.dataset.wsPath);
    room.socket = socket;
    socket.onopen = () => (retries = 0);
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      queue = queue.then(() => handle(message)).catch((error) => console.error("room:", error));
    };
    socket.onclose = (event) => socketClosed(event.code);
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function socketClosed(code) {
    socket = null;
    root.dataset.signaling = "closed";
    if (closing) return;
    if (code in FINAL_CLOSES) {
      const [text, state] = FINAL_CLOSES[code];
      endCall();
      setState(state);
      say(strings[text], state === "ended" ? "info" : "error");
      return;
    }
    // Lost on the way: the call itself may go on (it does not pass through Parlour).
    if (!room.pc || room.pc.connectionState !== "connected") say(strings.offline, "error");
    retries += 1;
    setTimeout(connectSocket, Math.min(10000, 500 * 2 ** Math.min(retries, 5)));
  }

  function endCall() {
    closing = true;
    if (room.pc) room.pc.close();
    room.pc = null;
    root.dataset.connection = "closed";
    byId("remote").srcObject = null;
    if (socket) socket.close();
    stopStream();
  }

  async function handle(message) {
    switch (message.type) {
      case "welcome":
        room.side = message.side;
        root.dataset.signaling = "open";
        // After a reconnection: a call that goes on is reported again.
        if (room.pc && room.pc.connectionState === "connected") send({ type: "connected" });
        break;
      case "arrived": // the other side has just opened the room (perhaps again)
        send({ type: "here" });
        await otherIsHere(true);
        break;
      case "present": // the other side was here before this page came
        await otherIsHere(false);
        break;
      case "signal":
        await signal(message.data || {});
        break;
      case "left":
        // The other page lost only its line to Parlour: a call that goes on is kept.
        if (message.reason === "lost" && room.pc && room.pc.connectionState === "connected") break;
        otherLeft();
        break;
      case "replaced":
      case "ended":
        endCall();
        setState(message.type);
        say(strings[message.type]);
        break;
    }
  }

  async function otherIsHere(arrived) {
    const pc = room.pc;
    // A call that goes on is kept: the other page only came back to Parlour (a page that goes
    // away says "bye" first, which ends the call here). One being made is kept too, unless
    // the other side has just come (again).
    if (pc && pc.connectionState === "connected") return;
    if (pc && !["failed", "closed"].includes(pc.connectionState) && !arrived) return;
    offerRetries = 0;
    if (!pc || pc.connectionState !== "connected") {
      setState("connecting");
      say(strings.connecting);
    }
    if (room.side === "expert") await makeOffer();
  }

  function otherLeft() {
    if (room.pc) room.pc.close();
    room.pc = null;
    root.dataset.connection = "closed";
    byId("remote").srcObject = null;
    setState("left");
    say(strings.left);
  }

  // Each offer has a name; its answer and the candidates of both sides carry it.
  const newCallId = () =>
    Array.from(crypto.getRandomValues(new Uint8Array(8)), (byte) => byte.toString(16).padStart(2, "0")).join("");

  function newPeer(call) {
    if (room.pc) room.pc.close();
    const pc = new RTCPeerConnection({ iceServers });
    pc.call = call;
    room.pc = pc;
    pendingCandidates = [];
    if (stream) stream.getTracks().forEach((track) => pc.addTrack(track, stream));
    pc.onicecandidate = (event) => {
      if (pc === room.pc && event.candidate) send({ type: "signal", data: { call, candidate: event.candidate.toJSON() } });
    };
    pc.ontrack = (event) => {
      if (pc !== room.pc) return;
      const remote = byId("remote");
      if (event.streams[0]) {
        remote.srcObject = event.streams[0];
      } else {
        if (!(remote.srcObject instanceof MediaStream)) remote.srcObject = new MediaStream();
        remote.srcObject.addTrack(event.track);
      }
    };
    pc.onconnectionstatechange = () => {
      if (pc === room.pc) connectionChanged(pc.connectionState);
    };
    root.dataset.connection = pc.connectionState;
    return pc;
  }

  async function makeOffer() {
    const pc = newPeer(newCallId());
    for (const kind of ["audio", "video"]) {
      if (!pc.getSenders().some((sender) => sender.track && sender.track.kind === kind)) {
        pc.addTransceiver(kind, { direction: "recvonly" });
      }
    }
    const offer = await pc.createOffer();
    if (pc !== room.pc) return;
    await pc.setLocalDescription(offer);
    send({ type: "signal", data: { call: pc.call, description: { type: "offer", sdp: pc.localDescription.sdp } } });
  }

  async function signal(data) {
    const description = data.description;
    const call = data.call || "";
    if (description && description.type === "offer" && room.side !== "expert") {
      // The newest offer is the call: whatever came before it is over.
      const pc = newPeer(call);
      await pc.setRemoteDescription(description);
      await addPendingCandidates(pc);
      await pc.setLocalDescription(await pc.createAnswer());
      send({ type: "signal", data: { call, description: { type: "answer", sdp: pc.localDescription.sdp } } });
      return;
    }
    const pc = room.pc;
    if (!pc || pc.call !== call) return; // of an earlier attempt
    if (description && description.type === "answer") {
      if (pc.signalingState !== "have-local-offer") return;
      await pc.setRemoteDescription(description);
      await addPendingCandidates(pc);
    } else if (data.candidate) {
      if (!pc.remoteDescription) pendingCandidates.push(data.candidate);
      else await addCandidate(pc, data.candidate);
    }
  }

  async function addPendingCandidates(pc) {
    const waiting = pendingCandidates;
    pendingCandidates = [];
    for (const candidate of waiting) await addCandidate(pc, candidate);
  }

  async function addCandidate(pc, candidate) {
    try {
      await pc.addIceCandidate(candidate);
    } catch (error) {
      // A candidate of a connection given up meanwhile.
    }
  }

  function connectionChanged(state) {
    root.dataset.connection = state;
    if (state === "connected") {
      setState("connected");
      say(strings.connected);
      send({ type: "connected" });
    } else if (state === "failed") {
      setState("failed");
      say(strings["call-failed"], "error");
      send({ type: "failed" }); // V4 (Parlour ignores it once the two had connected)
      // The expert's page tries again a few times while the other side is there.
      if (room.side === "expert" && offerRetries < MAX_OFFER_RETRIES && socket) {
        offerRetries += 1;
        setTimeout(() => {
          if (!closing && room.pc && room.pc.connectionState === "failed") makeOffer();
        }, 2000);
      }
    } else if (state === "disconnected") {
      say(strings.interrupted, "error");
    }
  }

  // --- wiring ---------------------------------------------------------------------------

  byId("check-retry").addEventListener("click", runCheck);
  byId("join").addEventListener("click", joinCall);
  byId("mute").addEventListener("click", (event) => toggleTracks(event.currentTarget, "audio"));
  byId("camera").addEventListener("click", (event) => toggleTracks(event.currentTarget, "video"));
  // A page that goes away (closed, reloaded, navigated) leaves the room at once.
  window.addEventListener("pagehide", () => {
    if (!closing) send({ type: "bye" });
  });
  byId("leave").addEventListener("click", () => {
    send({ type: "bye" });
    endCall();
    setState("gone");
  });
  runCheck();
})();
