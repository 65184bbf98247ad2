// The bytes between a TLS session and its socket, as an OpenSSL BIO that reads the
// peer's bytes where they already are and writes records straight into the queue the
// connection sends from. OpenSSL's memory BIOs cost a copy each way (socket buffer ->
// BIO, BIO -> send queue) plus their own buffer management; this costs neither.
//
// Input is borrowed: feed() keeps a view of the caller's bytes (the worker's read
// buffer), and keepUnread() copies only what the session has not consumed yet (a
// partial record) before the caller's buffer is reused. Output accumulates in one
// string that take() swaps into an empty send queue, so steady state allocates nothing.
#pragma once

#include <openssl/bio.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace remora::network::tls {

class CiphertextChannel {
 public:
  // A BIO over this channel, for SSL_set_bio(ssl, bio, bio) (which then owns it). The
  // channel must outlive it. Null if OpenSSL cannot allocate.
  BIO* newBio();

  // Borrows `bytes` until keepUnread(); bytes still borrowed are kept first.
  void feed(std::string_view bytes);
  // Copies the unread part of the borrowed bytes so the caller may reuse its buffer.
  void keepUnread();
  std::size_t inputSize() const { return kept_.size() - kept_offset_ + borrowed_.size(); }

  // Moves what the session wrote into `out` (appended); returns how many bytes.
  std::size_t take(std::string& out);
  bool hasOutput() const { return !output_.empty(); }

  // What the BIO does: copy up to `size` input bytes into `out`; append to output.
  std::size_t read(char* out, std::size_t size);
  void write(const char* data, std::size_t size) { output_.append(data, size); }

 private:
  std::string kept_;  // unread input that outlived its borrowed buffer
  std::size_t kept_offset_ = 0;
  std::string_view borrowed_;
  std::string output_;
};

}  // namespace remora::network::tls
