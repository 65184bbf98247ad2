// Response code details for HTTP/1 codec rejections (%RESPONSE_CODE_DETAILS%). The
// server codec pairs them with the local reply status; the client codec reports every
// malformed response as 502 with the same detail.
#pragma once

#include <string_view>

namespace remora::http::h1::details {

inline constexpr std::string_view kCodecError = "http1.codec_error";
inline constexpr std::string_view kTooManyHeaders = "http1.too_many_headers";
inline constexpr std::string_view kHeadersTooLarge = "http1.headers_too_large";
inline constexpr std::string_view kInvalidCharacters = "http1.invalid_characters";
inline constexpr std::string_view kObsFold = "http1.obs_fold_not_allowed";
inline constexpr std::string_view kBareLineFeed = "http1.bare_lf_not_allowed";
inline constexpr std::string_view kInvalidUrl = "http1.invalid_url";
inline constexpr std::string_view kInvalidTransferEncoding = "http1.invalid_transfer_encoding";
inline constexpr std::string_view kContentLengthAndChunked =
    "http1.content_length_and_chunked_not_allowed";
inline constexpr std::string_view kInvalidContentLength = "http1.invalid_content_length";
inline constexpr std::string_view kDuplicateContentLength = "http1.duplicate_content_length";
inline constexpr std::string_view kMissingHost = "http1.missing_host_header";
inline constexpr std::string_view kMultipleHosts = "http1.multiple_host_headers";
inline constexpr std::string_view kHttp10NotAllowed = "http1.http_10_not_allowed";
inline constexpr std::string_view kVersionNotSupported = "http1.http_version_not_supported";
inline constexpr std::string_view kInvalidStatus = "http1.invalid_status";
inline constexpr std::string_view kUnexpectedResponseData = "http1.unexpected_response_data";

}  // namespace remora::http::h1::details
