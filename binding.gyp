{
  # What an install builds: the addon and the zygote helper, with hardened flags (target_defaults).
  # The example plugins and test fixtures are plugins/Makefile's (npm run build:plugins). With
  # -Dbulkhead_asan=1 (npm run test:asan, in its own build directory) both are built with ASAN and
  # UBSAN.
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
        "cpp/monitor/cgroup_probe.cc",
        "cpp/monitor/cgroup_delegation.cc",
        "cpp/zygote/process_facts.cc"
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
        "cpp/monitor/cgroup_delegation.cc",
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
    }
  ]
}
