# Builds the addon against the system's libevent 2.1 (found with pkg-config; scripts/install.mjs checks first).
# BUFFEREVENT_SANITIZE=1 in the environment adds AddressSanitizer and UBSan (scripts/test-asan.sh).
# bufferevent_codec_test.node is a second, test-only module over the pure codec files (test/ws/codec.ts
# loads it); the production addon does not contain it.
{
  "targets": [
    {
      "target_name": "bufferevent",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/util/libevent_allocator.cc",
        "native/native_object.cc",
        "native/memory_reduction.cc",
        "native/event_loop.cc",
        "native/evbuffer.cc",
        "native/buffer_event.cc",
        "native/buffer_event_socket.cc",
        "native/socket_fast_paths.cc",
        "native/socket_own_reads.cc",
        "native/read_high_watermark.cc",
        "native/buffer_event_pair.cc",
        "native/buffer_event_filter.cc",
        "native/filters/native_filter.cc",
        "native/filters/zlib_filter.cc",
        "native/filters/lines_filter.cc",
        "native/rate_limit.cc",
        "native/listener.cc",
        "native/event.cc",
        "native/inotify_watch.cc",
        "native/hostname_connector.cc",
        "native/dns_options.cc",
        "native/ws/utf8.cc",
        "native/ws/message_tracker.cc",
        "native/ws/frame_parser.cc",
        "native/ws/frame_writer.cc",
        "native/ws/close_frame.cc",
        "native/ws/protocol_session.cc",
        "native/ws/connection.cc",
        "native/ws/connection_table.cc",
        "native/ws/message_batch.cc",
        "native/ws/send_slab.cc",
        "native/ws/connection_topics.cc",
        "native/ws/connection_deflate.cc",
        "native/ws/frame_output.cc",
        "native/ws/output_cork.cc",
        "native/ws/topics.cc",
        "native/ws/publication.cc",
        "native/ws/zlib_context_pool.cc",
        "native/ws/deflate_codec.cc",
        "native/ws/sha1.cc",
        "native/ws/handshake_head.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": [
        "-std=c++20", "-Wall", "-Wextra", "<!@(pkg-config --cflags libevent_core libevent_extra)",
        "<!@(node -p \"process.env.BUFFEREVENT_SANITIZE ? '-fsanitize=address,undefined -fno-omit-frame-pointer -g -DBUFFEREVENT_SANITIZE_BUILD' : ''\")"
      ],
      "ldflags": [
        "<!@(node -p \"process.env.BUFFEREVENT_SANITIZE ? '-fsanitize=address,undefined' : ''\")"
      ],
      "libraries": ["<!@(pkg-config --libs libevent_core libevent_extra)"]
    },
    {
      "target_name": "bufferevent_codec_test",
      "sources": [
        "native/ws/codec_test_binding.cc",
        "native/ws/utf8.cc",
        "native/ws/message_tracker.cc",
        "native/ws/frame_parser.cc",
        "native/ws/frame_writer.cc",
        "native/ws/zlib_context_pool.cc",
        "native/ws/deflate_codec.cc",
        "native/ws/deflate_test_binding.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED",
                  "BUFFEREVENT_ZLIB_MAX_SLICE=4093"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": [
        "-std=c++20", "-Wall", "-Wextra", "<!@(pkg-config --cflags libevent_core)",
        "<!@(node -p \"process.env.BUFFEREVENT_SANITIZE ? '-fsanitize=address,undefined -fno-omit-frame-pointer -g' : ''\")"
      ],
      "ldflags": [
        "<!@(node -p \"process.env.BUFFEREVENT_SANITIZE ? '-fsanitize=address,undefined' : ''\")"
      ],
      "libraries": ["<!@(pkg-config --libs libevent_core)"]
    }
  ]
}
