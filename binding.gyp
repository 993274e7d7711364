{
  # Every native target: the addon, the zygote helper, and the plugins shipped as examples and
  # test fixtures. Hardened flags apply to all of them (see target_defaults). With -Dbulkhead_asan=1
  # (npm run test:asan, in its own build directory) the addon and the zygote are built with ASAN
  # and UBSAN; the plugins stay as they are.
  "variables": { "bulkhead_asan%": 0 },
  "target_defaults": {
    "cflags": [
      "-O2", "-g", "-Wall", "-Wextra", "-Wno-unused-parameter",
      "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2", "-fno-strict-aliasing"
    ],
    "cflags_cc": ["-std=c++17"],
    "cflags_c": ["-std=c99"],
    "ldflags": ["-Wl,-z,relro,-z,now,-z,noexecstack"],
    "include_dirs": ["cpp", "cpp/include"],
    "conditions": [
      ["target_arch=='x64'", { "cflags": ["-fcf-protection=full"] }]
    ]
  },
  "targets": [
    {
      "target_name": "bulkhead",
      "sources": [
        "cpp/addon/addon.cc",
        "cpp/addon/zygote_handle.cc",
        "cpp/addon/channel_handle.cc",
        "cpp/addon/probe_binding.cc",
        "cpp/addon/js_callback.cc",
        "cpp/addon/constants.cc",
        "cpp/common/wire.cc",
        "cpp/ring/host_ring.cc",
        "cpp/ring/crash_report.cc",
        "cpp/sandbox/probe.cc",
        "cpp/sandbox/landlock_ruleset.cc",
        "cpp/sandbox/syscall_names.cc",
        "cpp/monitor/cgroup_fs.cc",
        "cpp/monitor/cgroup_probe.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
      "ldflags": ["-Wl,--no-undefined-version"],
      "conditions": [
        ["bulkhead_asan==1", {
          "cflags": ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
                     "-fno-omit-frame-pointer", "-U_FORTIFY_SOURCE"],
          "ldflags": ["-fsanitize=address,undefined"]
        }]
      ]
    },
    {
      "target_name": "bulkhead_zygote",
      "type": "executable",
      "sources": [
        "cpp/zygote/zygote_main.cc",
        "cpp/zygote/template_process.cc",
        "cpp/zygote/worker_process.cc",
        "cpp/zygote/stat_emulation.cc",
        "cpp/zygote/syscall_monitor.cc",
        "cpp/zygote/process_facts.cc",
        "cpp/zygote/crash_trap.cc",
        "cpp/monitor/cgroup_fs.cc",
        "cpp/monitor/cgroup_probe.cc",
        "cpp/monitor/cgroup_tree.cc",
        "cpp/zygote/plugin_host.cc",
        "cpp/common/wire.cc",
        "cpp/ring/worker_ring.cc",
        "cpp/sandbox/seccomp_policy.cc",
        "cpp/sandbox/bpf_program.cc",
        "cpp/sandbox/landlock_ruleset.cc",
        "cpp/sandbox/sandbox_spec.cc",
        "cpp/sandbox/syscall_names.cc"
      ],
      "cflags": ["-fPIE"],
      "ldflags": ["-pie"],
      "libraries": ["-ldl"],
      "conditions": [
        ["bulkhead_asan==1", {
          "sources": ["cpp/zygote/sanitizer_build.cc"],
          "cflags": ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
                     "-fno-omit-frame-pointer", "-U_FORTIFY_SOURCE"],
          "ldflags": ["-fsanitize=address,undefined"]
        }]
      ]
    },
    {
      "target_name": "echo",
      "type": "shared_library",
      "product_dir": "<(PRODUCT_DIR)/plugins",
      "product_prefix": "",
      "sources": ["plugins/examples/echo.c"],
      "ldflags": ["-Wl,--no-undefined"]
    },
    {
      "target_name": "zlib_codec",
      "type": "shared_library",
      "product_dir": "<(PRODUCT_DIR)/plugins",
      "product_prefix": "",
      "sources": ["plugins/examples/zlib_codec.c"],
      # Static zlib: the pinned digest then covers zlib's code too. Debian's libz.a is built for
      # executables (PIE), not shared objects; hiding its symbols (--exclude-libs) lets the linker
      # resolve its references locally, so no text relocation remains.
      "ldflags": ["-Wl,--no-undefined", "-Wl,--exclude-libs,ALL"],
      "libraries": ["-Wl,-Bstatic", "-lz", "-Wl,-Bdynamic"]
    },
    {
      "target_name": "hostile",
      "type": "shared_library",
      "product_dir": "<(PRODUCT_DIR)/plugins",
      "product_prefix": "",
      "sources": ["plugins/hostile/hostile.c"],
      "ldflags": ["-Wl,--no-undefined"]
    },
    {
      "target_name": "hostile_ctor",
      "type": "shared_library",
      "product_dir": "<(PRODUCT_DIR)/plugins",
      "product_prefix": "",
      "sources": ["plugins/hostile/hostile_ctor.c"],
      "ldflags": ["-Wl,--no-undefined"]
    },
    {
      "target_name": "bad_abi",
      "type": "shared_library",
      "product_dir": "<(PRODUCT_DIR)/plugins",
      "product_prefix": "",
      "sources": ["plugins/hostile/bad_abi.c"],
      "ldflags": ["-Wl,--no-undefined"]
    },
    {
      "target_name": "no_entry",
      "type": "shared_library",
      "product_dir": "<(PRODUCT_DIR)/plugins",
      "product_prefix": "",
      "sources": ["plugins/hostile/no_entry.c"],
      "ldflags": ["-Wl,--no-undefined"]
    },
    {
      "target_name": "ctor_violation",
      "type": "shared_library",
      "product_dir": "<(PRODUCT_DIR)/plugins",
      "product_prefix": "",
      "sources": ["plugins/hostile/ctor_violation.c"],
      "ldflags": ["-Wl,--no-undefined"]
    },
    {
      "target_name": "boundary",
      "type": "shared_library",
      "product_dir": "<(PRODUCT_DIR)/plugins",
      "product_prefix": "",
      "sources": ["plugins/hostile/boundary.c"],
      "ldflags": ["-Wl,--no-undefined"]
    },
    {
      "target_name": "rogue_template",
      "type": "shared_library",
      "product_dir": "<(PRODUCT_DIR)/plugins",
      "product_prefix": "",
      "sources": ["plugins/hostile/rogue_template.c"],
      "ldflags": ["-Wl,--no-undefined"]
    },
    {
      "target_name": "init_fail",
      "type": "shared_library",
      "product_dir": "<(PRODUCT_DIR)/plugins",
      "product_prefix": "",
      "sources": ["plugins/hostile/init_fail.c"],
      "ldflags": ["-Wl,--no-undefined"]
    },
    {
      "target_name": "control_strings",
      "type": "shared_library",
      "product_dir": "<(PRODUCT_DIR)/plugins",
      "product_prefix": "",
      "sources": ["plugins/hostile/control_strings.c"],
      "ldflags": ["-Wl,--no-undefined"]
    }
  ]
}
