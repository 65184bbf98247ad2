// What the per-request system calls cost on an idle loopback TCP connection: the
// checks a proxy can make before reusing a pooled upstream connection (Remora peeks,
// nginx asks SO_ERROR), and the socket calls against the file calls for the same bytes.
// Each is one system call; the differences are what the kernel does inside it.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

// A connected loopback pair; `client` is the end the benchmarks use.
struct LoopbackPair {
  LoopbackPair() {
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    listen(listener, 1);
    getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
    client = socket(AF_INET, SOCK_STREAM, 0);
    connect(client, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    server = accept(listener, nullptr, nullptr);
    close(listener);
  }
  ~LoopbackPair() {
    close(client);
    close(server);
  }
  bool ok() const { return client >= 0 && server >= 0; }
  int client = -1;
  int server = -1;
};

void BM_IdleCheckPeek(benchmark::State& state) {
  LoopbackPair pair;
  if (!pair.ok()) state.SkipWithError("no loopback connection");
  char byte;
  for (auto _ : state) {
    benchmark::DoNotOptimize(recv(pair.client, &byte, 1, MSG_PEEK | MSG_DONTWAIT));
  }
}
BENCHMARK(BM_IdleCheckPeek);

void BM_IdleCheckSoError(benchmark::State& state) {
  LoopbackPair pair;
  if (!pair.ok()) state.SkipWithError("no loopback connection");
  for (auto _ : state) {
    int error = 0;
    socklen_t length = sizeof(error);
    benchmark::DoNotOptimize(getsockopt(pair.client, SOL_SOCKET, SO_ERROR, &error, &length));
  }
}
BENCHMARK(BM_IdleCheckSoError);

void BM_IdleCheckPoll(benchmark::State& state) {
  LoopbackPair pair;
  if (!pair.ok()) state.SkipWithError("no loopback connection");
  for (auto _ : state) {
    pollfd p{pair.client, POLLIN | POLLRDHUP, 0};
    benchmark::DoNotOptimize(poll(&p, 1, 0));
  }
}
BENCHMARK(BM_IdleCheckPoll);

// 64 bytes sent and read back each iteration, so the socket buffers never fill. The
// socket calls (send, recv) against the file calls (write, read) that libuv makes.
template <bool kSocketWrite, bool kSocketRead>
void sendAndDrain(benchmark::State& state) {
  LoopbackPair pair;
  if (!pair.ok()) state.SkipWithError("no loopback connection");
  char bytes[64] = {};
  char sink[64];
  for (auto _ : state) {
    if (kSocketWrite) {
      benchmark::DoNotOptimize(send(pair.client, bytes, sizeof(bytes), MSG_NOSIGNAL));
    } else {
      benchmark::DoNotOptimize(write(pair.client, bytes, sizeof(bytes)));
    }
    if (kSocketRead) {
      benchmark::DoNotOptimize(recv(pair.server, sink, sizeof(sink), 0));
    } else {
      benchmark::DoNotOptimize(read(pair.server, sink, sizeof(sink)));
    }
  }
}

void BM_SendRecv64(benchmark::State& state) { sendAndDrain<true, true>(state); }
void BM_WriteRecv64(benchmark::State& state) { sendAndDrain<false, true>(state); }
void BM_SendRead64(benchmark::State& state) { sendAndDrain<true, false>(state); }
BENCHMARK(BM_SendRecv64);
BENCHMARK(BM_WriteRecv64);
BENCHMARK(BM_SendRead64);

}  // namespace
