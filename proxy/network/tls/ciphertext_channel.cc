#include "proxy/network/tls/ciphertext_channel.h"

#include <algorithm>
#include <climits>
#include <cstring>

namespace remora::network::tls {
namespace {

CiphertextChannel* channelOf(BIO* bio) {
  return static_cast<CiphertextChannel*>(BIO_get_data(bio));
}

int bioWrite(BIO* bio, const char* data, int size) {
  BIO_clear_retry_flags(bio);
  if (size <= 0) return 0;
  channelOf(bio)->write(data, static_cast<std::size_t>(size));
  return size;
}

int bioRead(BIO* bio, char* out, int size) {
  BIO_clear_retry_flags(bio);
  if (size <= 0) return 0;
  const std::size_t read = channelOf(bio)->read(out, static_cast<std::size_t>(size));
  if (read == 0) {
    // No bytes yet, not the end of the stream: the session reports WANT_READ.
    BIO_set_retry_read(bio);
    return -1;
  }
  return static_cast<int>(read);
}

long bioCtrl(BIO* bio, int command, long, void*) {
  switch (command) {
    case BIO_CTRL_PENDING:
      return static_cast<long>(std::min<std::size_t>(channelOf(bio)->inputSize(), LONG_MAX));
    case BIO_CTRL_FLUSH:  // records are queued as soon as they are written
      return 1;
    default:  // kTLS, datagram and other controls: not supported
      return 0;
  }
}

int bioCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* channelMethod() {
  // Built once; OpenSSL never changes a method after creation.
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "remora ciphertext");
    if (m == nullptr) return m;
    BIO_meth_set_write(m, &bioWrite);
    BIO_meth_set_read(m, &bioRead);
    BIO_meth_set_ctrl(m, &bioCtrl);
    BIO_meth_set_create(m, &bioCreate);
    return m;
  }();
  return method;
}

}  // namespace

BIO* CiphertextChannel::newBio() {
  const BIO_METHOD* method = channelMethod();
  if (method == nullptr) return nullptr;
  BIO* bio = BIO_new(method);
  if (bio != nullptr) BIO_set_data(bio, this);
  return bio;
}

void CiphertextChannel::feed(std::string_view bytes) {
  keepUnread();
  borrowed_ = bytes;
}

void CiphertextChannel::keepUnread() {
  if (borrowed_.empty()) return;
  kept_.append(borrowed_);
  borrowed_ = {};
}

std::size_t CiphertextChannel::read(char* out, std::size_t size) {
  std::size_t copied = 0;
  if (kept_offset_ < kept_.size()) {
    copied = std::min(size, kept_.size() - kept_offset_);
    std::memcpy(out, kept_.data() + kept_offset_, copied);
    kept_offset_ += copied;
    if (kept_offset_ == kept_.size()) {
      // Partial records are the exception: an idle connection holds no buffer.
      std::string().swap(kept_);
      kept_offset_ = 0;
    }
  }
  const std::size_t from_borrowed = std::min(size - copied, borrowed_.size());
  if (from_borrowed > 0) {
    std::memcpy(out + copied, borrowed_.data(), from_borrowed);
    borrowed_.remove_prefix(from_borrowed);
    copied += from_borrowed;
  }
  return copied;
}

std::size_t CiphertextChannel::take(std::string& out) {
  const std::size_t size = output_.size();
  if (out.empty()) {
    out.swap(output_);  // output_ keeps out's old capacity for the next records
  } else {
    out.append(output_);
  }
  output_.clear();
  return size;
}

}  // namespace remora::network::tls
