// p4lb_packet: raw Ethernet frames on a Linux interface through an AF_PACKET socket, for the
// embedded switch's interface ports (target/ports/interface-port.ts is the only caller).
//
// JS API (all functions throw an Error with `code` (e.g. "ENODEV"), `errno`, `syscall`, `ifname`):
//   open(ifname, netnsPath?)                -> handle   bound, promiscuous, non-blocking socket,
//                                                       made inside netnsPath's namespace if given
//   startReceiving(handle, onFrame, onError)            uv_poll on the fd; onFrame(Buffer) per frame
//   send(handle, Uint8Array)                -> bytes sent (one whole frame, Ethernet header included)
//   info(handle)                   -> { ifname, where, ifindex, kernelIgnoresOutgoing, closed }
//   close(handle, onClosed?)                            stops polling, closes the fd, then onClosed()
//
// What a port reads: every frame arriving on the interface (promiscuous, all EtherTypes), but none
// leaving it. The kernel never loops a frame back to the socket that sent it; PACKET_IGNORE_OUTGOING
// (or the PACKET_OUTGOING check on older kernels) also hides what others send out of the interface,
// such as the kernel's own IPv6 neighbour discovery, which a switch must not take as received.
// Frames are as the kernel hands them over: with checksum offload on (veth's default), frames from
// local TCP/UDP sockets carry partial checksums; topology builders turn offloads off with ethtool.
//
// Lifetime: a PacketSocket is owned jointly by its JS handle (until the GC finalizer runs) and by
// its uv_poll_t (until libuv's close callback runs); it is freed when both have let go.

#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#ifdef __linux__
// glibc's net/ headers, not linux/if.h and linux/if_arp.h: the two sets clash when mixed.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23  // linux/if_packet.h since Linux 4.20
#endif
#endif

namespace {

// Largest frame we accept in one read: a 64 KiB GSO/GRO aggregate plus its Ethernet header.
// Larger frames are reported through onError and dropped, never delivered truncated.
constexpr size_t kReceiveBufferBytes = 65536 + 64;
// Kernel receive buffer asked for each socket (the kernel doubles it for bookkeeping).
constexpr int kSocketReceiveBufferBytes = 2 * 1024 * 1024;
// Frames handed to JS per readiness event, so a flood on one port cannot starve the event loop.
constexpr int kMaxFramesPerWakeup = 64;

// Marks handles made by open(), so a foreign object passed as a handle is rejected, not unwrapped.
constexpr napi_type_tag kHandleTag = {0x7034'6c62'7061'636bULL, 0x6574'736f'636b'6574ULL};

struct PacketSocket {
  napi_env env = nullptr;
  int fd = -1;
  std::string ifname;
  std::string where;  // "ifname" or "ifname in /var/run/netns/x", for error messages
  int ifindex = 0;
  bool kernel_ignores_outgoing = false;

  uv_poll_t poll{};
  bool poll_open = false;     // uv_poll_init done and the libuv close callback not yet run
  bool closing = false;       // close requested (by JS, by the finalizer or by env teardown)
  bool handle_alive = true;   // the JS handle has not been finalized
  bool hook_added = false;    // env cleanup hook registered
  bool in_teardown = false;   // the env is being torn down: no more calls into JS

  napi_ref on_frame = nullptr;
  napi_ref on_error = nullptr;
  napi_ref on_closed = nullptr;
  napi_async_context async_context = nullptr;

  std::vector<uint8_t> rx;
};

// ---- errors -----------------------------------------------------------------------------------

// Error objects shaped like Node's system errors: message, code, errno, syscall, plus ifname.
napi_value MakeSystemError(napi_env env, const char* syscall, int errnum, const std::string& where,
                           const std::string& ifname, const std::string& detail = std::string()) {
  // libuv error codes are negated errno values on Unix; uv_err_name gives "ENODEV" and friends.
  const char* name = uv_err_name(-errnum);
  std::string message = std::string(syscall) + " on " + where + ": " +
                        (detail.empty() ? std::string(std::strerror(errnum)) : detail) + " (" +
                        name + ")";
  napi_value code_value, message_value, error, errno_value, syscall_value, ifname_value;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code_value);
  napi_create_string_utf8(env, message.c_str(), message.size(), &message_value);
  napi_create_error(env, code_value, message_value, &error);
  napi_create_int32(env, errnum, &errno_value);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value);
  napi_create_string_utf8(env, ifname.c_str(), ifname.size(), &ifname_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_set_named_property(env, error, "syscall", syscall_value);
  napi_set_named_property(env, error, "ifname", ifname_value);
  return error;
}

napi_value ThrowSystemError(napi_env env, const char* syscall, int errnum, const std::string& where,
                            const std::string& ifname, const std::string& detail = std::string()) {
  napi_throw(env, MakeSystemError(env, syscall, errnum, where, ifname, detail));
  return nullptr;
}

napi_value ThrowTypeError(napi_env env, const char* message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return nullptr;
}

// ---- calling into JS from libuv callbacks -------------------------------------------------------

// Calls `ref`'s function as an async callback of this socket. A throw inside it becomes an uncaught
// exception (like a throwing 'data' listener); returns false then, so the caller stops its batch.
bool CallBack(PacketSocket* s, napi_ref ref, size_t argc, napi_value* argv) {
  napi_env env = s->env;
  napi_value fn, recv;
  if (ref == nullptr || napi_get_reference_value(env, ref, &fn) != napi_ok || fn == nullptr) {
    return true;
  }
  napi_get_global(env, &recv);  // napi_make_callback needs an object receiver
  napi_status status = napi_make_callback(env, s->async_context, recv, fn, argc, argv, nullptr);
  if (status == napi_pending_exception) {
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_fatal_exception(env, exception);
    return false;
  }
  return status == napi_ok;
}

// ---- closing ------------------------------------------------------------------------------------

void OnEnvTeardown(void* arg);

void DeleteRef(napi_env env, napi_ref* ref) {
  if (*ref != nullptr) {
    napi_delete_reference(env, *ref);
    *ref = nullptr;
  }
}

// The fd is closed and libuv is done with the poll handle: notify JS, drop JS references, and free
// the state if the JS handle is gone too.
void FinishClose(PacketSocket* s) {
#ifdef __linux__
  if (s->fd >= 0) {
    ::close(s->fd);  // also drops the PACKET_MR_PROMISC membership
    s->fd = -1;
  }
#endif
  if (!s->in_teardown) {
    if (s->on_closed != nullptr) {
      napi_handle_scope scope;
      napi_open_handle_scope(s->env, &scope);
      CallBack(s, s->on_closed, 0, nullptr);
      napi_close_handle_scope(s->env, scope);
    }
    DeleteRef(s->env, &s->on_frame);
    DeleteRef(s->env, &s->on_error);
    DeleteRef(s->env, &s->on_closed);
    if (s->async_context != nullptr) {
      napi_async_destroy(s->env, s->async_context);
      s->async_context = nullptr;
    }
  }
  if (!s->handle_alive) delete s;
}

void OnPollClosed(uv_handle_t* handle) {
  auto* s = static_cast<PacketSocket*>(handle->data);
  s->poll_open = false;
  FinishClose(s);
}

// Idempotent. May free `s` synchronously (when nothing is polling and the JS handle is gone).
void BeginClose(PacketSocket* s) {
  if (s->closing) return;
  s->closing = true;
  if (s->hook_added && !s->in_teardown) {
    napi_remove_env_cleanup_hook(s->env, OnEnvTeardown, s);
    s->hook_added = false;
  }
  if (s->poll_open) {
    uv_poll_stop(&s->poll);
    // The fd stays open until libuv has let go of the handle (libuv forbids closing it earlier).
    uv_close(reinterpret_cast<uv_handle_t*>(&s->poll), OnPollClosed);
  } else {
    FinishClose(s);
  }
}

// Worker threads check that their loop has no open handles when they exit: close ours.
void OnEnvTeardown(void* arg) {
  auto* s = static_cast<PacketSocket*>(arg);
  s->in_teardown = true;
  s->hook_added = false;
  BeginClose(s);
}

void FinalizeHandle(napi_env /*env*/, void* data, void* /*hint*/) {
  auto* s = static_cast<PacketSocket*>(data);
  s->handle_alive = false;
  if (s->closing) {
    // Closed earlier: free now unless libuv still holds the poll handle (its callback frees).
    if (!s->poll_open && s->fd < 0) delete s;
    return;
  }
  BeginClose(s);  // frees `s` when done
}

// ---- argument helpers ---------------------------------------------------------------------------

PacketSocket* UnwrapHandle(napi_env env, napi_value value) {
  bool tagged = false;
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_object ||
      napi_check_object_type_tag(env, value, &kHandleTag, &tagged) != napi_ok || !tagged) {
    ThrowTypeError(env, "expected a handle returned by open()");
    return nullptr;
  }
  void* data = nullptr;
  napi_unwrap(env, value, &data);
  return static_cast<PacketSocket*>(data);
}

PacketSocket* UnwrapOpenHandle(napi_env env, napi_value value, const char* what) {
  PacketSocket* s = UnwrapHandle(env, value);
  if (s == nullptr) return nullptr;
  if (s->closing) {
    ThrowSystemError(env, what, EBADF, s->where, s->ifname, "the port is closed");
    return nullptr;
  }
  return s;
}

bool IsFunction(napi_env env, napi_value value) {
  napi_valuetype type;
  return napi_typeof(env, value, &type) == napi_ok && type == napi_function;
}

// ---- receiving ----------------------------------------------------------------------------------

#ifdef __linux__
void EmitReceiveError(PacketSocket* s, const char* syscall, int errnum,
                      const std::string& detail = std::string()) {
  napi_value error = MakeSystemError(s->env, syscall, errnum, s->where, s->ifname, detail);
  CallBack(s, s->on_error, 1, &error);
}

void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
  auto* s = static_cast<PacketSocket*>(handle->data);
  if (s->closing) return;
  napi_handle_scope scope;
  napi_open_handle_scope(s->env, &scope);
  if (status < 0) {
    EmitReceiveError(s, "poll", -status);
  } else {
    for (int i = 0; i < kMaxFramesPerWakeup && !s->closing; i++) {
      sockaddr_ll from{};
      socklen_t from_len = sizeof(from);
      // MSG_TRUNC makes recvfrom return the frame's real length even when it did not fit.
      ssize_t n = recvfrom(s->fd, s->rx.data(), s->rx.size(), MSG_TRUNC | MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        // One-shot socket errors such as ENETDOWN when the link goes down; reading clears them.
        EmitReceiveError(s, "recvfrom", errno);
        break;
      }
      // Kernels older than 4.20 ignore PACKET_IGNORE_OUTGOING: drop our own transmissions here.
      if (from.sll_pkttype == PACKET_OUTGOING) continue;
      if (static_cast<size_t>(n) > s->rx.size()) {
        EmitReceiveError(s, "recvfrom", EMSGSIZE,
                         "dropped a frame of " + std::to_string(n) + " bytes, larger than " +
                             std::to_string(s->rx.size()) +
                             " (turn off GRO/TSO offloads on the interface)");
        continue;
      }
      napi_handle_scope frame_scope;
      napi_open_handle_scope(s->env, &frame_scope);
      napi_value frame;
      void* copy_data;
      napi_create_buffer_copy(s->env, static_cast<size_t>(n), s->rx.data(), &copy_data, &frame);
      bool ok = CallBack(s, s->on_frame, 1, &frame);
      napi_close_handle_scope(s->env, frame_scope);
      if (!ok) break;
    }
  }
  napi_close_handle_scope(s->env, scope);
}
#endif

// ---- exported functions -------------------------------------------------------------------------

#ifdef __linux__
// What open() builds before any JS object exists; errors come back as (syscall, errno, detail).
struct OpenedSocket {
  int fd = -1;
  int ifindex = 0;
  bool kernel_ignores_outgoing = false;
};

struct OpenFailure {
  const char* syscall = nullptr;
  int errnum = 0;
  std::string detail;
};

bool Fail(OpenFailure* failure, const char* syscall, int errnum, std::string detail = std::string()) {
  failure->syscall = syscall;
  failure->errnum = errnum;
  failure->detail = std::move(detail);
  return false;
}

// Creates the socket in the calling thread's current network namespace.
bool OpenSocket(const std::string& ifname, OpenedSocket* out, OpenFailure* failure) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ) {
    return Fail(failure, "open", EINVAL,
                "interface names are 1 to " + std::to_string(IFNAMSIZ - 1) + " bytes");
  }
  unsigned ifindex = if_nametoindex(ifname.c_str());
  if (ifindex == 0) {
    int err = errno;
    return Fail(failure, "if_nametoindex", err, err == ENODEV ? "no such interface" : "");
  }

  // Protocol 0 receives nothing until bind() names the protocol and the interface, so no frame
  // from another interface slips in between socket() and bind().
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(failure, "socket", errno);
  auto fail = [&](const char* syscall, int err, std::string detail = std::string()) {
    ::close(fd);
    return Fail(failure, syscall, err, std::move(detail));
  };

  // Only Ethernet-framed devices (veth, physical NICs, loopback): others would hand us raw IP.
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, ifname.c_str(), ifname.size());
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) return fail("ioctl(SIOCGIFHWADDR)", errno);
  if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER && ifr.ifr_hwaddr.sa_family != ARPHRD_LOOPBACK) {
    return fail("open", EPROTONOSUPPORT,
                "not an Ethernet interface (ARPHRD " + std::to_string(ifr.ifr_hwaddr.sa_family) +
                    ")");
  }

  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(ETH_P_ALL);
  addr.sll_ifindex = static_cast<int>(ifindex);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) return fail("bind", errno);

  packet_mreq mreq{};
  mreq.mr_ifindex = static_cast<int>(ifindex);
  mreq.mr_type = PACKET_MR_PROMISC;
  if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) < 0) {
    return fail("setsockopt(PACKET_ADD_MEMBERSHIP)", errno);
  }

  // Room for bursts: the default (rmem_default, ~200 KiB) holds under a hundred full-size frames.
  // SO_RCVBUFFORCE passes rmem_max with CAP_NET_ADMIN; otherwise the kernel caps SO_RCVBUF.
  // Best effort: a smaller buffer only means earlier drops under load.
  int rcvbuf = kSocketReceiveBufferBytes;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  }

  int one = 1;
  bool ignores = setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) == 0;
  if (!ignores && errno != ENOPROTOOPT) return fail("setsockopt(PACKET_IGNORE_OUTGOING)", errno);

  out->fd = fd;
  out->ifindex = static_cast<int>(ifindex);
  out->kernel_ignores_outgoing = ignores;
  return true;
}

// Creates the socket inside the network namespace at `netns_path` (a /var/run/netns/NAME bind
// mount or /proc/PID/ns/net). A socket stays in the namespace it was made in, so only this thread
// switches, for the duration of the call; no JS runs in between.
bool OpenSocketInNamespace(const std::string& ifname, const std::string& netns_path,
                           OpenedSocket* out, OpenFailure* failure) {
  int target = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int err = errno;
    return Fail(failure, "open(netns)", err, "cannot open " + netns_path);
  }
  int home = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) {
    int err = errno;
    ::close(target);
    return Fail(failure, "open(/proc/thread-self/ns/net)", err);
  }
  bool ok;
  if (setns(target, CLONE_NEWNET) < 0) {
    int err = errno;
    ok = Fail(failure, "setns", err, "cannot enter " + netns_path);
  } else {
    ok = OpenSocket(ifname, out, failure);
    // Staying in the wrong namespace would silently misdirect every later socket of this thread.
    if (setns(home, CLONE_NEWNET) < 0) {
      napi_fatal_error("p4lb_packet", NAPI_AUTO_LENGTH,
                       "cannot return to the original network namespace", NAPI_AUTO_LENGTH);
    }
  }
  ::close(home);
  ::close(target);
  return ok;
}
#endif

bool GetStringArgument(napi_env env, napi_value value, std::string* out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string) return false;
  size_t length = 0;
  napi_get_value_string_utf8(env, value, nullptr, 0, &length);
  std::string text(length + 1, '\0');
  napi_get_value_string_utf8(env, value, text.data(), text.size(), &length);
  text.resize(length);
  *out = std::move(text);
  return true;
}

napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  std::string ifname, netns;
  if (argc < 1 || !GetStringArgument(env, argv[0], &ifname)) {
    return ThrowTypeError(env, "open(ifname, netnsPath?): ifname must be a string");
  }
  napi_valuetype netns_type = napi_undefined;
  if (argc >= 2) napi_typeof(env, argv[1], &netns_type);
  if (netns_type != napi_undefined && !GetStringArgument(env, argv[1], &netns)) {
    return ThrowTypeError(env, "open(ifname, netnsPath?): netnsPath must be a string");
  }
  std::string where = netns.empty() ? ifname : ifname + " in " + netns;

#ifndef __linux__
  return ThrowSystemError(env, "open", ENOTSUP, where, ifname,
                          "AF_PACKET interface ports need Linux");
#else
  OpenedSocket opened;
  OpenFailure failure;
  bool ok = netns.empty() ? OpenSocket(ifname, &opened, &failure)
                          : OpenSocketInNamespace(ifname, netns, &opened, &failure);
  if (!ok) {
    return ThrowSystemError(env, failure.syscall, failure.errnum, where, ifname, failure.detail);
  }

  auto* s = new PacketSocket();
  s->env = env;
  s->fd = opened.fd;
  s->ifname = ifname;
  s->where = where;
  s->ifindex = opened.ifindex;
  s->kernel_ignores_outgoing = opened.kernel_ignores_outgoing;

  napi_value handle;
  napi_create_object(env, &handle);
  if (napi_wrap(env, handle, s, FinalizeHandle, nullptr, nullptr) != napi_ok ||
      napi_type_tag_object(env, handle, &kHandleTag) != napi_ok) {
    ::close(opened.fd);
    delete s;
    return nullptr;  // a JS exception is pending
  }
  if (napi_add_env_cleanup_hook(env, OnEnvTeardown, s) == napi_ok) s->hook_added = true;
  return handle;
#endif
}

napi_value StartReceiving(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 3) return ThrowTypeError(env, "startReceiving(handle, onFrame, onError)");
  PacketSocket* s = UnwrapOpenHandle(env, argv[0], "startReceiving");
  if (s == nullptr) return nullptr;
  if (!IsFunction(env, argv[1]) || !IsFunction(env, argv[2])) {
    return ThrowTypeError(env, "startReceiving: onFrame and onError must be functions");
  }
  if (s->poll_open) return ThrowSystemError(env, "startReceiving", EALREADY, s->where, s->ifname);
#ifndef __linux__
  return ThrowSystemError(env, "startReceiving", ENOTSUP, s->where, s->ifname);
#else
  napi_value resource, resource_name;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "p4lb:PacketSocket", NAPI_AUTO_LENGTH, &resource_name);
  if (napi_async_init(env, resource, resource_name, &s->async_context) != napi_ok) return nullptr;
  napi_create_reference(env, argv[1], 1, &s->on_frame);
  napi_create_reference(env, argv[2], 1, &s->on_error);
  s->rx.resize(kReceiveBufferBytes);

  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  int rc = uv_poll_init(loop, &s->poll, s->fd);
  if (rc < 0) return ThrowSystemError(env, "uv_poll_init", -rc, s->where, s->ifname);
  s->poll.data = s;
  s->poll_open = true;
  rc = uv_poll_start(&s->poll, UV_READABLE, OnReadable);
  if (rc < 0) return ThrowSystemError(env, "uv_poll_start", -rc, s->where, s->ifname);
  return nullptr;
#endif
}

napi_value Send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 2) return ThrowTypeError(env, "send(handle, frame)");
  PacketSocket* s = UnwrapOpenHandle(env, argv[0], "send");
  if (s == nullptr) return nullptr;
  bool is_typed_array = false;
  napi_is_typedarray(env, argv[1], &is_typed_array);
  napi_typedarray_type array_type;
  size_t length = 0;
  void* data = nullptr;
  if (!is_typed_array ||
      napi_get_typedarray_info(env, argv[1], &array_type, &length, &data, nullptr, nullptr) !=
          napi_ok ||
      array_type != napi_uint8_array) {
    return ThrowTypeError(env, "send: frame must be a Uint8Array (or Buffer)");
  }
#ifndef __linux__
  return ThrowSystemError(env, "send", ENOTSUP, s->where, s->ifname);
#else
  // The socket is bound to one interface, so send() needs no address; the frame goes out whole.
  ssize_t n;
  do {
    n = ::send(s->fd, data, length, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ThrowSystemError(env, "send", errno, s->where, s->ifname);
  napi_value result;
  napi_create_int64(env, n, &result);
  return result;
#endif
}

napi_value Info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 1) return ThrowTypeError(env, "info(handle)");
  PacketSocket* s = UnwrapHandle(env, argv[0]);
  if (s == nullptr) return nullptr;
  napi_value result, ifname, ifindex, ignores, closed;
  napi_create_object(env, &result);
  napi_create_string_utf8(env, s->ifname.c_str(), s->ifname.size(), &ifname);
  napi_create_int32(env, s->ifindex, &ifindex);
  napi_get_boolean(env, s->kernel_ignores_outgoing, &ignores);
  napi_get_boolean(env, s->closing, &closed);
  napi_set_named_property(env, result, "ifname", ifname);
  napi_value where;
  napi_create_string_utf8(env, s->where.c_str(), s->where.size(), &where);
  napi_set_named_property(env, result, "where", where);
  napi_set_named_property(env, result, "ifindex", ifindex);
  napi_set_named_property(env, result, "kernelIgnoresOutgoing", ignores);
  napi_set_named_property(env, result, "closed", closed);
  return result;
}

napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 1) return ThrowTypeError(env, "close(handle, onClosed?)");
  PacketSocket* s = UnwrapHandle(env, argv[0]);
  if (s == nullptr) return nullptr;
  bool has_callback = argc >= 2 && IsFunction(env, argv[1]);
  if (s->closing) {
    bool closed = s->fd < 0 && !s->poll_open;
    if (has_callback && closed) {
      napi_value recv;
      napi_get_undefined(env, &recv);
      napi_call_function(env, recv, argv[1], 0, nullptr, nullptr);
    } else if (has_callback && s->on_closed == nullptr) {
      napi_create_reference(env, argv[1], 1, &s->on_closed);
    } else if (has_callback) {
      return ThrowSystemError(env, "close", EALREADY, s->where, s->ifname, "close already in progress");
    }
    return nullptr;
  }
  if (has_callback) napi_create_reference(env, argv[1], 1, &s->on_closed);
  BeginClose(s);
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"open", nullptr, Open, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"startReceiving", nullptr, StartReceiving, nullptr, nullptr, nullptr, napi_enumerable,
       nullptr},
      {"send", nullptr, Send, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
