// conveyor._conveyor: the pybind11 layer over the C ABI (conveyor.h). It only converts
// types, releases the GIL around every blocking call and turns conveyor_error_t into the
// Python exceptions of conveyor.errors (registered by conveyor/__init__.py through
// _register()). Blocking waits run in slices of kSliceMs so Ctrl-C (PyErr_CheckSignals)
// interrupts them. The Python API lives in python/conveyor/*.py.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <mutex>
#include <tuple>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "conveyor/conveyor.h"

namespace py = pybind11;

namespace {

// The thread that will run Py_FinalizeEx (the interpreter's main thread), recorded at import.
unsigned long g_main_thread_ident = 0;

bool interpreter_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing();
#else
  return _Py_IsFinalizing();
#endif
}

// Releases the GIL around a blocking call into libconveyor, as py::gil_scoped_release does,
// except at interpreter exit. When such a call returns on a daemon thread after finalization
// began, taking the GIL back ends the thread with a forced unwind through this destructor,
// which is noexcept, so the process would std::terminate ("terminate called without an active
// exception"). That thread parks instead: the process is exiting and daemon threads never run
// again anyway. The finalizing (main) thread itself takes the GIL back normally. A thread
// that was already waiting for the GIL when finalization began is ended by Python all the
// same (pthread_exit): the destructor is noexcept(false) so that forced unwind may pass
// through it (pybind11's dispatcher rethrows it) instead of terminating the process.
class NoGil {
 public:
  NoGil() : state_(PyEval_SaveThread()) {}
  NoGil(const NoGil&) = delete;
  NoGil& operator=(const NoGil&) = delete;
  ~NoGil() noexcept(false) {
    if (interpreter_finalizing() && PyThread_get_thread_ident() != g_main_thread_ident) {
      for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
    }
    PyEval_RestoreThread(state_);
  }

 private:
  PyThreadState* state_;
};

// Longest stretch a blocking call waits with the GIL released before checking for signals.
constexpr int32_t kSliceMs = 100;

// Set by _register(): conveyor.errors.error_from_native.
py::object g_error_factory;

[[noreturn]] void raise_error(conveyor_err_t code, const std::string& name, const std::string& message,
                              bool retriable, bool fatal) {
  if (!g_error_factory) throw std::runtime_error(name + ": " + message);
  py::object exc = g_error_factory(code, name, message, retriable, fatal);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
  throw py::error_already_set();
}

// Raises the Python exception for a failed C call (rc != 0) and frees err.
void check(conveyor_err_t rc, conveyor_error_t* err) {
  if (rc == CONVEYOR_OK) {
    conveyor_error_destroy(err);
    return;
  }
  std::string name = err ? conveyor_error_name(err) : conveyor_err_name(rc);
  std::string message = err ? conveyor_error_message(err) : name;
  bool retriable = err ? conveyor_error_retriable(err) : conveyor_err_retriable(rc);
  bool fatal = err ? conveyor_error_fatal(err) : false;
  conveyor_error_destroy(err);
  raise_error(rc, name, message, retriable, fatal);
}

void check_signals() {
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

// Seconds (None or negative = forever) → milliseconds (-1 = forever).
int64_t to_ms(const py::object& timeout) {
  if (timeout.is_none()) return -1;
  double s = timeout.cast<double>();
  if (s < 0) return -1;
  double ms = s * 1000.0;
  if (ms > 2147483647.0) return -1;
  return static_cast<int64_t>(ms + 0.5);
}

struct Deadline {
  explicit Deadline(int64_t timeout_ms)
      : forever(timeout_ms < 0),
        end(std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms)) {}
  // The next slice to wait, or 0 when the deadline passed.
  int32_t slice() const {
    if (forever) return kSliceMs;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
    if (left <= 0) return 0;
    return static_cast<int32_t>(std::min<int64_t>(left, kSliceMs));
  }
  bool forever;
  std::chrono::steady_clock::time_point end;
};

// A conveyor_config_t built from a dict of str → str (the Python layer stringifies values).
struct Config {
  conveyor_config_t* conf = conveyor_config_new();
  explicit Config(const std::map<std::string, std::string>& values) {
    for (const auto& [k, v] : values) {
      conveyor_error_t* err = nullptr;
      conveyor_err_t rc = conveyor_config_set(conf, k.c_str(), v.c_str(), &err);
      if (rc != CONVEYOR_OK) {
        conveyor_config_destroy(conf);
        conf = nullptr;
        check(rc, err);
      }
    }
  }
  ~Config() { conveyor_config_destroy(conf); }
  Config(const Config&) = delete;
  Config& operator=(const Config&) = delete;
};

// Bytes of a key/value/header argument: None → null; bytes, str (UTF-8), or any buffer.
struct BytesArg {
  const void* data = nullptr;
  size_t len = 0;
  std::optional<py::buffer_info> buffer;  // keeps a buffer export alive

  BytesArg(const py::handle& obj, const char* what) {
    if (obj.is_none()) return;
    PyObject* o = obj.ptr();
    if (PyBytes_Check(o)) {
      data = PyBytes_AS_STRING(o);
      len = static_cast<size_t>(PyBytes_GET_SIZE(o));
    } else if (PyUnicode_Check(o)) {
      Py_ssize_t n = 0;
      const char* s = PyUnicode_AsUTF8AndSize(o, &n);
      if (!s) throw py::error_already_set();
      data = s;
      len = static_cast<size_t>(n);
    } else if (PyObject_CheckBuffer(o)) {
      buffer.emplace(py::reinterpret_borrow<py::buffer>(obj).request());
      data = buffer->ptr;
      len = static_cast<size_t>(buffer->size * buffer->itemsize);
    } else {
      throw py::type_error(std::string(what) + " must be bytes, str or None, not " +
                           std::string(py::str(py::type::of(obj).attr("__name__"))));
    }
    if (!data) data = "";  // present but empty
  }
};

py::object bytes_or_none(const void* data, size_t len) {
  if (!data) return py::none();
  return py::reinterpret_steal<py::object>(PyBytes_FromStringAndSize(static_cast<const char*>(data),
                                                                     static_cast<Py_ssize_t>(len)));
}

py::list headers_of(const conveyor_message_t* m) {
  size_t n = conveyor_message_header_count(m);
  py::list out(n);
  for (size_t i = 0; i < n; ++i) {
    const char* key = nullptr;
    const void* value = nullptr;
    size_t len = 0;
    conveyor_message_header(m, i, &key, &value, &len);
    out[i] = py::make_tuple(py::str(key), bytes_or_none(value, len));
  }
  return out;
}

// conveyor.Record: a struct sequence (a named tuple made in C), so building one per consumed
// record costs a tuple allocation instead of a Python __init__ call.
PyStructSequence_Field kRecordFields[] = {
    {const_cast<char*>("topic"), const_cast<char*>("topic name (str)")},
    {const_cast<char*>("partition"), const_cast<char*>("partition index (int)")},
    {const_cast<char*>("offset"), const_cast<char*>("offset (int); -1 in a failed delivery report")},
    {const_cast<char*>("key"), const_cast<char*>("key (bytes, or None for a null key)")},
    {const_cast<char*>("value"), const_cast<char*>("value (bytes, or None for a null value)")},
    {const_cast<char*>("headers"), const_cast<char*>("list of (str, bytes | None)")},
    {const_cast<char*>("timestamp"), const_cast<char*>("epoch milliseconds (int)")},
    {const_cast<char*>("timestamp_type"), const_cast<char*>("0 = CreateTime, 1 = LogAppendTime")},
    {nullptr, nullptr}};
PyStructSequence_Desc kRecordDesc = {
    const_cast<char*>("conveyor.Record"),
    const_cast<char*>("One record read by a Consumer, or the subject of a delivery report.\n\n"
                      "Attributes: topic, partition, offset, key, value, headers, timestamp, timestamp_type.\n"
                      "Record(topic, partition, offset, key, value, headers, timestamp, timestamp_type=0)."),
    kRecordFields, 8};
PyTypeObject* g_record_struct = nullptr;

py::object new_record(py::object topic, int32_t partition, int64_t offset, py::object key, py::object value,
                      py::object headers, int64_t timestamp, int timestamp_type) {
  PyObject* r = PyStructSequence_New(g_record_struct);
  if (!r) throw py::error_already_set();
  PyStructSequence_SET_ITEM(r, 0, topic.release().ptr());
  PyStructSequence_SET_ITEM(r, 1, PyLong_FromLong(partition));
  PyStructSequence_SET_ITEM(r, 2, PyLong_FromLongLong(offset));
  PyStructSequence_SET_ITEM(r, 3, key.release().ptr());
  PyStructSequence_SET_ITEM(r, 4, value.release().ptr());
  PyStructSequence_SET_ITEM(r, 5, headers.release().ptr());
  PyStructSequence_SET_ITEM(r, 6, PyLong_FromLongLong(timestamp));
  PyStructSequence_SET_ITEM(r, 7, PyLong_FromLong(timestamp_type));
  return py::reinterpret_steal<py::object>(r);
}

py::object make_record(const conveyor_message_t* m) {
  size_t klen = 0, vlen = 0;
  const void* k = conveyor_message_key(m, &klen);
  const void* v = conveyor_message_value(m, &vlen);
  return new_record(py::str(conveyor_message_topic(m)), conveyor_message_partition(m), conveyor_message_offset(m),
                    bytes_or_none(k, klen), bytes_or_none(v, vlen), headers_of(m), conveyor_message_timestamp(m),
                    conveyor_message_timestamp_type(m));
}

// ---- broker -----------------------------------------------------------------------------

class Broker {
 public:
  explicit Broker(const std::map<std::string, std::string>& config) {
    Config conf(config);
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      NoGil nogil;
      rc = conveyor_broker_new(conf.conf, &broker_, &err);
    }
    check(rc, err);
  }
  ~Broker() {
    NoGil nogil;
    conveyor_broker_destroy(broker_);
  }
  std::string bootstrap_servers() const { return conveyor_broker_bootstrap_servers(live()); }
  int port() const { return conveyor_broker_port(live()); }
  std::string data_dir() const { return conveyor_broker_data_dir(live()); }
  void stop() {
    if (!broker_) return;
    conveyor_broker_t* b = broker_;
    {
      NoGil nogil;
      conveyor_broker_destroy(b);
    }
    broker_ = nullptr;
  }
  bool running() const { return broker_ != nullptr; }

 private:
  const conveyor_broker_t* live() const {
    if (!broker_) raise_error(CONVEYOR_ERR__STATE, conveyor_err_name(CONVEYOR_ERR__STATE), "the broker is stopped", false, false);
    return broker_;
  }
  conveyor_broker_t* broker_ = nullptr;
};

// ---- producer ---------------------------------------------------------------------------

// A delivery report copied out of the C callback (which runs without the GIL) and handed to
// the Python on_delivery callable once poll()/flush() has the GIL again.
struct PendingReport {
  PyObject* callback = nullptr;  // owned reference
  conveyor_err_t code = CONVEYOR_OK;
  std::string err_name, err_message;
  bool retriable = false, fatal = false;
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1, timestamp_ms = -1;
  std::optional<std::string> key, value;
};

class Producer {
 public:
  explicit Producer(const std::map<std::string, std::string>& config) {
    Config conf(config);
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc = conveyor_producer_new(conf.conf, &Producer::on_delivery, this, &producer_, &err);
    check(rc, err);
  }
  ~Producer() { close_now(); }

  void produce(const std::string& topic, py::handle value, py::handle key, int32_t partition,
               py::handle headers, int64_t timestamp, py::handle on_delivery) {
    BytesArg v(value, "value");
    BytesArg k(key, "key");
    std::vector<conveyor_header_t> hs;
    std::vector<std::string> hkeys;
    std::vector<BytesArg> hvals;
    if (!headers.is_none()) {
      py::list items = PyDict_Check(headers.ptr()) ? py::list(headers.attr("items")())
                                                     : py::list(py::reinterpret_borrow<py::object>(headers));
      hs.reserve(items.size());
      hkeys.reserve(items.size());
      hvals.reserve(items.size());
      for (py::handle item : items) {
        py::tuple kv = py::reinterpret_borrow<py::object>(item).cast<py::tuple>();
        if (kv.size() != 2) throw py::value_error("headers must be (key, value) pairs");
        hkeys.push_back(kv[0].cast<std::string>());
        hvals.emplace_back(kv[1], "header value");
      }
      for (size_t i = 0; i < hkeys.size(); ++i)
        hs.push_back(conveyor_header_t{hkeys[i].c_str(), hvals[i].data, hvals[i].len});
    }
    PyObject* cb = nullptr;
    if (!on_delivery.is_none()) {
      if (!PyCallable_Check(on_delivery.ptr())) throw py::type_error("on_delivery must be callable");
      cb = on_delivery.ptr();
      Py_INCREF(cb);
    }
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc = conveyor_producer_produce(live(), topic.c_str(), partition, k.data, k.len, v.data, v.len,
                                                  hs.data(), hs.size(), timestamp, cb, &err);
    if (rc != CONVEYOR_OK) Py_XDECREF(cb);
    check(rc, err);
  }

  // Serves delivery callbacks; returns how many ran.
  int poll(const py::object& timeout) {
    int64_t timeout_ms = to_ms(timeout);
    Deadline deadline(timeout_ms);
    size_t total = 0;
    for (bool first = true;; first = false) {
      int32_t slice = first && timeout_ms == 0 ? 0 : deadline.slice();
      size_t served = 0;
      conveyor_error_t* err = nullptr;
      conveyor_err_t rc;
      {
        auto* handle = live();  // may raise: needs the GIL
        NoGil nogil;
        rc = conveyor_producer_poll(handle, slice, &served, &err);
      }
      check(rc, err);
      total += served;
      dispatch();
      if (total > 0 || slice == 0) break;
      check_signals();
    }
    return static_cast<int>(total);
  }

  // Returns the number of records still outstanding (0 = everything delivered).
  size_t flush(const py::object& timeout) {
    int64_t timeout_ms = to_ms(timeout);
    Deadline deadline(timeout_ms);
    for (;;) {
      int32_t slice = deadline.slice();
      conveyor_error_t* err = nullptr;
      conveyor_err_t rc;
      {
        auto* handle = live();  // may raise: needs the GIL
        NoGil nogil;
        rc = conveyor_producer_flush(handle, slice, &err);
      }
      dispatch();
      if (rc == CONVEYOR_OK) {
        conveyor_error_destroy(err);
        return 0;
      }
      if (rc != CONVEYOR_ERR__TIMED_OUT) check(rc, err);
      conveyor_error_destroy(err);
      if (slice == 0) return conveyor_producer_outstanding(producer_);
      check_signals();
    }
  }

  size_t outstanding() const { return producer_ ? conveyor_producer_outstanding(producer_) : 0; }
  // (acknowledged, failed) delivery reports seen so far, with or without a Python callback.
  std::pair<uint64_t, uint64_t> delivery_counts() const { return {delivered_.load(), failed_.load()}; }

  void close(const py::object& timeout) {
    if (!producer_) return;
    flush(timeout);
    close_now();
  }

  // The C handle, for the retry handler (raises when closed).
  conveyor_producer_t* native() const { return live(); }

 private:
  conveyor_producer_t* live() const {
    if (!producer_)
      raise_error(CONVEYOR_ERR__STATE, conveyor_err_name(CONVEYOR_ERR__STATE), "the producer is closed", false, false);
    return producer_;
  }

  void close_now() {
    if (!producer_) return;
    conveyor_producer_t* p = producer_;
    producer_ = nullptr;
    {
      NoGil nogil;
      conveyor_producer_destroy(p);
    }
    for (auto& r : pending_) Py_XDECREF(r.callback);
    pending_.clear();
    // Callbacks whose reports were dropped by destroy leak their reference; conveyor.h says
    // pending reports are dropped, so the Python layer flushes before closing.
  }

  // Runs without the GIL, inside conveyor_producer_poll/flush on this thread.
  static void on_delivery(const conveyor_message_t* msg, const conveyor_error_t* err, void* opaque) {
    auto* self = static_cast<Producer*>(opaque);
    if (err)
      self->failed_.fetch_add(1, std::memory_order_relaxed);
    else
      self->delivered_.fetch_add(1, std::memory_order_relaxed);
    auto* cb = static_cast<PyObject*>(conveyor_message_opaque(msg));
    if (!cb) return;  // no Python callback for this record
    PendingReport r;
    r.callback = cb;
    if (err) {
      r.code = conveyor_error_code(err);
      r.err_name = conveyor_error_name(err);
      r.err_message = conveyor_error_message(err);
      r.retriable = conveyor_error_retriable(err);
      r.fatal = conveyor_error_fatal(err);
    }
    r.topic = conveyor_message_topic(msg);
    r.partition = conveyor_message_partition(msg);
    r.offset = conveyor_message_offset(msg);
    r.timestamp_ms = conveyor_message_timestamp(msg);
    size_t len = 0;
    if (const void* k = conveyor_message_key(msg, &len)) r.key.emplace(static_cast<const char*>(k), len);
    if (const void* v = conveyor_message_value(msg, &len)) r.value.emplace(static_cast<const char*>(v), len);
    std::lock_guard lock(self->pending_mu_);
    self->pending_.push_back(std::move(r));
  }

  // With the GIL: calls on_delivery(err, record) for each queued report. A raising callback
  // stops the dispatch (the rest stay queued for the next poll) and the exception propagates.
  void dispatch() {
    for (;;) {
      PendingReport r;
      {
        std::lock_guard lock(pending_mu_);
        if (pending_.empty()) break;
        r = std::move(pending_.front());
        pending_.pop_front();
      }
      py::object cb = py::reinterpret_steal<py::object>(r.callback);
      py::object error = py::none();
      if (r.code != CONVEYOR_OK && g_error_factory)
        error = g_error_factory(r.code, r.err_name, r.err_message, r.retriable, r.fatal);
      py::object key = r.key ? py::object(py::bytes(*r.key)) : py::object(py::none());
      py::object value = r.value ? py::object(py::bytes(*r.value)) : py::object(py::none());
      py::object record = new_record(py::str(r.topic), r.partition, r.offset, key, value, py::list(),
                                     r.timestamp_ms, CONVEYOR_TIMESTAMP_CREATE_TIME);
      cb(error, record);
    }
  }

  std::atomic<uint64_t> delivered_{0}, failed_{0};
  conveyor_producer_t* producer_ = nullptr;
  std::mutex pending_mu_;  // poll() from two threads at once must not corrupt the queue
  std::deque<PendingReport> pending_;
};

// ---- consumer ---------------------------------------------------------------------------

class Consumer {
 public:
  explicit Consumer(const std::map<std::string, std::string>& config) {
    Config conf(config);
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc = conveyor_consumer_new(conf.conf, &consumer_, &err);
    check(rc, err);
  }
  ~Consumer() {
    if (!consumer_) return;
    // Garbage collection: no Python callbacks from the destructor.
    conveyor_consumer_set_rebalance_cb(consumer_, nullptr, nullptr, nullptr);
    conveyor_consumer_set_commit_cb(consumer_, nullptr, nullptr, nullptr);
    NoGil nogil;
    conveyor_consumer_destroy(consumer_);
  }

  void assign(const std::vector<std::tuple<std::string, int32_t, int64_t>>& partitions) {
    std::vector<conveyor_topic_partition_t> tps;
    tps.reserve(partitions.size());
    for (const auto& [topic, partition, offset] : partitions)
      tps.push_back(conveyor_topic_partition_t{topic.c_str(), partition, offset});
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();  // may raise: needs the GIL
      NoGil nogil;
      rc = conveyor_consumer_assign(handle, tps.data(), tps.size(), &err);
    }
    check(rc, err);
  }

  void seek(const std::string& topic, int32_t partition, int64_t offset) {
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();  // may raise: needs the GIL
      NoGil nogil;
      rc = conveyor_consumer_seek(handle, topic.c_str(), partition, offset, &err);
    }
    check(rc, err);
  }

  py::object poll(const py::object& timeout) {
    Deadline deadline(to_ms(timeout));
    for (;;) {
      int32_t slice = deadline.slice();
      conveyor_message_t* msg = nullptr;
      conveyor_error_t* err = nullptr;
      conveyor_err_t rc;
      {
        auto* handle = live();  // may raise: needs the GIL
        NoGil nogil;
        rc = conveyor_consumer_poll(handle, slice, &msg, &err);
      }
      if (callback_error_) conveyor_message_destroy(msg), msg = nullptr;
      raise_callback_error();
      check(rc, err);
      if (msg) {
        py::object rec;
        try {
          rec = make_record(msg);
        } catch (...) {
          conveyor_message_destroy(msg);
          throw;
        }
        conveyor_message_destroy(msg);
        return rec;
      }
      if (slice == 0 || woken()) return py::none();
      check_signals();
    }
  }

  // No Python object is created before the wait: a daemon thread still waiting for the GIL
  // when the interpreter finalizes is ended by a forced unwind, and a list owned only by this
  // frame would be freed on that unwind without the GIL (list_dealloc crashed at exit).
  py::list consume(size_t max_records, const py::object& timeout) {
    if (max_records == 0) return py::list();
    Deadline deadline(to_ms(timeout));
    std::vector<conveyor_message_t*> msgs(std::min<size_t>(max_records, 100000));
    for (;;) {
      int32_t slice = deadline.slice();
      size_t n = 0;
      conveyor_error_t* err = nullptr;
      conveyor_err_t rc;
      {
        auto* handle = live();  // may raise: needs the GIL
        NoGil nogil;
        rc = conveyor_consumer_consume(handle, msgs.size(), slice, msgs.data(), &n, &err);
      }
      if (callback_error_) {
        for (size_t i = 0; i < n; ++i) conveyor_message_destroy(msgs[i]);
        n = 0;
      }
      raise_callback_error();
      check(rc, err);
      if (n > 0) {
        py::list out;
        size_t i = 0;
        try {
          for (; i < n; ++i) {
            out.append(make_record(msgs[i]));
            conveyor_message_destroy(msgs[i]);
          }
        } catch (...) {
          for (; i < n; ++i) conveyor_message_destroy(msgs[i]);
          throw;
        }
        return out;
      }
      if (slice == 0 || woken()) return py::list();
      check_signals();
    }
  }

  int64_t position(const std::string& topic, int32_t partition) {
    int64_t offset = -1;
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc = conveyor_consumer_position(live(), topic.c_str(), partition, &offset, &err);
    check(rc, err);
    return offset;
  }

  std::pair<int64_t, int64_t> watermark_offsets(const std::string& topic, int32_t partition,
                                                const py::object& timeout) {
    int64_t low = -1, high = -1;
    int64_t ms = to_ms(timeout);
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();  // may raise: needs the GIL
      NoGil nogil;
      rc = conveyor_consumer_watermark_offsets(handle, topic.c_str(), partition,
                                               static_cast<int32_t>(ms < 0 ? INT32_MAX : ms), &low, &high, &err);
    }
    check(rc, err);
    return {low, high};
  }

  std::vector<int64_t> offsets_for_times(const std::vector<std::tuple<std::string, int32_t, int64_t>>& partitions,
                                         const py::object& timeout) {
    std::vector<conveyor_topic_partition_t> tps;
    for (const auto& [topic, partition, ts] : partitions)
      tps.push_back(conveyor_topic_partition_t{topic.c_str(), partition, ts});
    int64_t ms = to_ms(timeout);
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();  // may raise: needs the GIL
      NoGil nogil;
      rc = conveyor_consumer_offsets_for_times(handle, tps.data(), tps.size(),
                                               static_cast<int32_t>(ms < 0 ? INT32_MAX : ms), &err);
    }
    check(rc, err);
    std::vector<int64_t> out;
    for (const auto& tp : tps) out.push_back(tp.offset);
    return out;
  }

  // Thread-safe: makes a blocked poll()/consume() in another thread return None / [].
  void wakeup() {
    wakeups_.fetch_add(1);
    if (consumer_) conveyor_consumer_wakeup(consumer_);
  }

  void close() {
    if (!consumer_) return;
    conveyor_consumer_t* c = consumer_;
    {
      // close() commits, revokes (callback) and leaves the group before freeing.
      NoGil nogil;
      conveyor_consumer_close(c, nullptr);
      conveyor_consumer_destroy(c);
    }
    consumer_ = nullptr;
    rebalance_cb_ = py::none();
    commit_cb_ = py::none();
    raise_callback_error();
  }

  bool closed() const { return consumer_ == nullptr; }

  // ---- consumer groups (conveyor.h "Consumer groups") ----

  // cb(event, [(topic, partition), ...]) with event 1 assigned, 2 revoked, 3 lost; runs inside
  // poll()/consume()/unsubscribe()/close() on the calling thread. None removes it.
  void set_rebalance_callback(py::object cb) {
    auto* handle = live();
    rebalance_cb_ = cb;
    conveyor_error_t* err = nullptr;
    check(conveyor_consumer_set_rebalance_cb(handle, cb.is_none() ? nullptr : &Consumer::rebalance_trampoline, this,
                                             &err),
          err);
  }

  // cb(error_or_None, [(topic, partition, offset), ...]) for async commits and auto-commits.
  void set_commit_callback(py::object cb) {
    auto* handle = live();
    commit_cb_ = cb;
    conveyor_error_t* err = nullptr;
    check(conveyor_consumer_set_commit_cb(handle, cb.is_none() ? nullptr : &Consumer::commit_trampoline, this, &err),
          err);
  }

  void subscribe(const std::vector<std::string>& topics) {
    std::vector<const char*> names;
    for (const auto& t : topics) names.push_back(t.c_str());
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc = conveyor_consumer_subscribe(live(), names.data(), names.size(), &err);
    check(rc, err);
  }

  void subscribe_pattern(const std::string& regex) {
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc = conveyor_consumer_subscribe_pattern(live(), regex.c_str(), &err);
    check(rc, err);
  }

  void unsubscribe() {
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();
      NoGil nogil;
      rc = conveyor_consumer_unsubscribe(handle, &err);
    }
    raise_callback_error();
    check(rc, err);
  }

  // [(topic, partition)] from a C ABI call that returns a partition list (assignment, paused).
  using PartitionListCall = conveyor_err_t (*)(conveyor_consumer_t*, conveyor_partition_list_t**, conveyor_error_t**);
  std::vector<std::pair<std::string, int32_t>> partition_pairs(PartitionListCall call) {
    conveyor_partition_list_t* list = nullptr;
    conveyor_error_t* err = nullptr;
    check(call(live(), &list, &err), err);
    std::vector<std::pair<std::string, int32_t>> out;
    for (size_t i = 0; i < conveyor_partition_list_count(list); ++i) {
      const auto* tp = conveyor_partition_list_get(list, i);
      out.emplace_back(tp->topic, tp->partition);
    }
    conveyor_partition_list_destroy(list);
    return out;
  }

  std::vector<std::pair<std::string, int32_t>> assignment() { return partition_pairs(conveyor_consumer_assignment); }

  // pause/resume (conveyor.h "Consumer groups"): [(topic, partition)]. The GIL is released
  // while the consumer's lock is taken (a poll() in another thread may hold it briefly).
  void pause_resume(const std::vector<std::pair<std::string, int32_t>>& partitions, bool pause) {
    std::vector<conveyor_topic_partition_t> tps;
    tps.reserve(partitions.size());
    for (const auto& [topic, partition] : partitions)
      tps.push_back(conveyor_topic_partition_t{topic.c_str(), partition, CONVEYOR_OFFSET_INVALID});
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();  // may raise: needs the GIL
      NoGil nogil;
      rc = pause ? conveyor_consumer_pause(handle, tps.data(), tps.size(), &err)
                 : conveyor_consumer_resume(handle, tps.data(), tps.size(), &err);
    }
    check(rc, err);
  }
  void pause(const std::vector<std::pair<std::string, int32_t>>& partitions) { pause_resume(partitions, true); }
  void resume(const std::vector<std::pair<std::string, int32_t>>& partitions) { pause_resume(partitions, false); }

  std::vector<std::pair<std::string, int32_t>> paused() { return partition_pairs(conveyor_consumer_paused); }

  std::vector<std::string> subscription() {
    conveyor_partition_list_t* list = nullptr;
    conveyor_error_t* err = nullptr;
    check(conveyor_consumer_subscription(live(), &list, &err), err);
    std::vector<std::string> out;
    for (size_t i = 0; i < conveyor_partition_list_count(list); ++i) out.emplace_back(conveyor_partition_list_get(list, i)->topic);
    conveyor_partition_list_destroy(list);
    return out;
  }

  // offsets None: current positions. Each entry (topic, partition, offset, metadata).
  void commit(const std::optional<std::vector<std::tuple<std::string, int32_t, int64_t, std::string>>>& offsets,
              bool asynchronous, const py::object& timeout) {
    std::vector<conveyor_topic_partition_t> tps;
    std::vector<const char*> meta;
    if (offsets)
      for (const auto& [topic, partition, offset, metadata] : *offsets) {
        tps.push_back(conveyor_topic_partition_t{topic.c_str(), partition, offset});
        meta.push_back(metadata.c_str());
      }
    int64_t ms = to_ms(timeout);
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();
      NoGil nogil;
      rc = conveyor_consumer_commit(handle, tps.empty() ? nullptr : tps.data(), tps.size(),
                                    meta.empty() ? nullptr : meta.data(),
                                    asynchronous ? CONVEYOR_COMMIT_ASYNC : CONVEYOR_COMMIT_SYNC,
                                    static_cast<int32_t>(ms < 0 ? -1 : std::min<int64_t>(ms, INT32_MAX)), &err);
    }
    check(rc, err);
  }

  std::vector<int64_t> committed(const std::vector<std::pair<std::string, int32_t>>& partitions,
                                 const py::object& timeout) {
    std::vector<conveyor_topic_partition_t> tps;
    for (const auto& [topic, partition] : partitions) tps.push_back(conveyor_topic_partition_t{topic.c_str(), partition, -1});
    int64_t ms = to_ms(timeout);
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();
      NoGil nogil;
      rc = conveyor_consumer_committed(handle, tps.data(), tps.size(),
                                       static_cast<int32_t>(ms < 0 ? -1 : std::min<int64_t>(ms, INT32_MAX)), &err);
    }
    check(rc, err);
    std::vector<int64_t> out;
    for (const auto& tp : tps) out.push_back(tp.offset);
    return out;
  }

  int64_t lag(const std::string& topic, int32_t partition, const py::object& timeout) {
    int64_t ms = to_ms(timeout);
    int64_t lag = 0;
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();
      NoGil nogil;
      rc = conveyor_consumer_lag(handle, topic.c_str(), partition,
                                 static_cast<int32_t>(ms < 0 ? INT32_MAX : std::min<int64_t>(ms, INT32_MAX)), &lag, &err);
    }
    check(rc, err);
    return lag;
  }

  std::pair<std::string, int32_t> group_member() {
    char buf[512];
    int32_t generation = -1;
    conveyor_error_t* err = nullptr;
    check(conveyor_consumer_group_member(live(), buf, sizeof buf, &generation, &err), err);
    return {std::string(buf), generation};
  }

  // The C handle, for the retry handler (raises when closed).
  conveyor_consumer_t* native() const { return live(); }

 private:
  conveyor_consumer_t* live() const {
    if (!consumer_)
      raise_error(CONVEYOR_ERR__STATE, conveyor_err_name(CONVEYOR_ERR__STATE), "the consumer is closed", false, false);
    return consumer_;
  }
  // True once per wakeup() call, so a woken slice loop returns instead of waiting on.
  bool woken() {
    if (wakeups_.load() == 0) return false;
    wakeups_.fetch_sub(1);
    return true;
  }

  // Callback trampolines: called by libconveyor inside poll/consume/unsubscribe/close, on this
  // thread, with the GIL released by us around the C call. An exception is kept and raised
  // when that call returns (the first one wins).
  static void rebalance_trampoline(conveyor_consumer_t*, int event, const conveyor_topic_partition_t* parts,
                                   size_t count, void* opaque) {
    auto* self = static_cast<Consumer*>(opaque);
    guarded(self, [&] {
      if (self->rebalance_cb_.is_none()) return;
      py::list list;
      for (size_t i = 0; i < count; ++i) list.append(py::make_tuple(py::str(parts[i].topic), parts[i].partition));
      self->rebalance_cb_(event, list);
    });
  }
  static void commit_trampoline(conveyor_consumer_t*, const conveyor_error_t* err, const conveyor_topic_partition_t* parts,
                                size_t count, void* opaque) {
    auto* self = static_cast<Consumer*>(opaque);
    guarded(self, [&] {
      if (self->commit_cb_.is_none()) return;
      py::object error = py::none();
      if (err && g_error_factory)
        error = g_error_factory(conveyor_error_code(err), conveyor_error_name(err), conveyor_error_message(err),
                                static_cast<bool>(conveyor_error_retriable(err)), static_cast<bool>(conveyor_error_fatal(err)));
      py::list list;
      for (size_t i = 0; i < count; ++i)
        list.append(py::make_tuple(py::str(parts[i].topic), parts[i].partition, parts[i].offset));
      self->commit_cb_(error, list);
    });
  }
  // Runs a trampoline's Python work with the GIL. Nothing may unwind through libconveyor's C
  // frames (that would std::terminate the process): a Python exception is kept and raised
  // when the C call returns (the first one wins), any other C++ exception becomes a
  // RuntimeError kept the same way. While the interpreter is finalizing, taking the GIL on any
  // thread but the main one would end it with a forced unwind through those frames, so the
  // callback is skipped there (see NoGil).
  template <class Fn>
  static void guarded(Consumer* self, Fn&& fn) {
    if (interpreter_finalizing() && PyThread_get_thread_ident() != g_main_thread_ident) return;
    py::gil_scoped_acquire gil;
    try {
      fn();
    } catch (py::error_already_set& e) {
      if (!self->callback_error_) self->callback_error_ = e.value();
    } catch (const std::exception& e) {
      if (!self->callback_error_)
        self->callback_error_ = py::reinterpret_steal<py::object>(
            PyObject_CallFunction(PyExc_RuntimeError, "s", (std::string("conveyor callback failed: ") + e.what()).c_str()));
    } catch (...) {
      if (!self->callback_error_)
        self->callback_error_ = py::reinterpret_steal<py::object>(
            PyObject_CallFunction(PyExc_RuntimeError, "s", "conveyor callback failed with an unknown C++ exception"));
    }
  }
  void raise_callback_error() {
    if (!callback_error_) return;
    py::object exc = std::move(*callback_error_);
    callback_error_.reset();
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
    throw py::error_already_set();
  }

  conveyor_consumer_t* consumer_ = nullptr;
  std::atomic<int> wakeups_{0};
  py::object rebalance_cb_ = py::none();
  py::object commit_cb_ = py::none();
  std::optional<py::object> callback_error_;  // touched only with the GIL held
};

// ---- admin ------------------------------------------------------------------------------

py::list topic_list_to_python(conveyor_topic_list_t* list) {
  py::list out;
  for (size_t t = 0; t < conveyor_topic_list_count(list); ++t) {
    py::list parts;
    int32_t n = conveyor_topic_list_partition_count(list, t);
    for (int32_t p = 0; p < n; ++p) {
      size_t nr = 0, ni = 0;
      const int32_t* replicas = conveyor_topic_list_partition_replicas(list, t, p, &nr);
      const int32_t* isr = conveyor_topic_list_partition_isr(list, t, p, &ni);
      py::dict d;
      d["partition"] = conveyor_topic_list_partition_id(list, t, p);
      d["leader"] = conveyor_topic_list_partition_leader(list, t, p);
      d["replicas"] = std::vector<int32_t>(replicas, replicas + nr);
      d["isr"] = std::vector<int32_t>(isr, isr + ni);
      parts.append(d);
    }
    py::dict topic;
    topic["name"] = conveyor_topic_list_name(list, t);
    topic["topic_id"] = conveyor_topic_list_topic_id(list, t);
    topic["is_internal"] = conveyor_topic_list_is_internal(list, t) != 0;
    topic["error"] = conveyor_topic_list_error(list, t);
    topic["error_name"] = conveyor_err_name(conveyor_topic_list_error(list, t));
    topic["partitions"] = parts;
    out.append(topic);
  }
  return out;
}

class Admin {
 public:
  explicit Admin(const std::map<std::string, std::string>& config) {
    Config conf(config);
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc = conveyor_admin_new(conf.conf, &admin_, &err);
    check(rc, err);
  }
  ~Admin() { close(); }

  void create_topic(const std::string& name, int32_t partitions, int16_t replication_factor,
                    const std::map<std::string, std::string>& config, int32_t timeout_ms) {
    Config conf(config);
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();  // may raise: needs the GIL
      NoGil nogil;
      rc = conveyor_admin_create_topic(handle, name.c_str(), partitions, replication_factor,
                                       config.empty() ? nullptr : conf.conf, timeout_ms, &err);
    }
    check(rc, err);
  }

  void delete_topic(const std::string& name, int32_t timeout_ms) {
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();  // may raise: needs the GIL
      NoGil nogil;
      rc = conveyor_admin_delete_topic(handle, name.c_str(), timeout_ms, &err);
    }
    check(rc, err);
  }

  py::list describe_topics(const std::vector<std::string>& names, int32_t timeout_ms) {
    std::vector<const char*> ptrs;
    for (const auto& n : names) ptrs.push_back(n.c_str());
    conveyor_topic_list_t* list = nullptr;
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();  // may raise: needs the GIL
      NoGil nogil;
      rc = conveyor_admin_describe_topics(handle, ptrs.data(), ptrs.size(), timeout_ms, &list, &err);
    }
    check(rc, err);
    py::list out;
    try {
      out = topic_list_to_python(list);
    } catch (...) {
      conveyor_topic_list_destroy(list);
      throw;
    }
    conveyor_topic_list_destroy(list);
    return out;
  }

  // ---- topic configuration (conveyor/client.py builds ConfigEntry) ----

  // [(name, value|None, source, read_only, is_sensitive, type, documentation|None,
  //   [(synonym name, value|None, source)])]
  py::list describe_configs(int resource_type, const std::string& name, const std::vector<std::string>& keys,
                            int32_t timeout_ms) {
    std::vector<const char*> ptrs;
    for (const auto& k : keys) ptrs.push_back(k.c_str());
    conveyor_config_entries_t* entries = nullptr;
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();  // may raise: needs the GIL
      NoGil nogil;
      rc = conveyor_admin_describe_configs(handle, resource_type, name.c_str(), ptrs.empty() ? nullptr : ptrs.data(),
                                           ptrs.size(), timeout_ms, &entries, &err);
    }
    check(rc, err);
    std::unique_ptr<conveyor_config_entries_t, void (*)(conveyor_config_entries_t*)> owned(
        entries, conveyor_config_entries_destroy);
    auto opt = [](const char* s) -> py::object { return s ? py::object(py::str(s)) : py::object(py::none()); };
    py::list out;
    size_t n = conveyor_config_entries_count(entries);
    for (size_t i = 0; i < n; ++i) {
      py::list synonyms;
      size_t ns = conveyor_config_entries_synonym_count(entries, i);
      for (size_t j = 0; j < ns; ++j) {
        const char* sn = nullptr;
        const char* sv = nullptr;
        int source = 0;
        if (conveyor_config_entries_synonym(entries, i, j, &sn, &sv, &source) != CONVEYOR_OK) continue;
        synonyms.append(py::make_tuple(py::str(sn), opt(sv), source));
      }
      out.append(py::make_tuple(py::str(conveyor_config_entries_name(entries, i)),
                                opt(conveyor_config_entries_value(entries, i)),
                                conveyor_config_entries_source(entries, i),
                                conveyor_config_entries_read_only(entries, i) != 0,
                                conveyor_config_entries_is_sensitive(entries, i) != 0,
                                conveyor_config_entries_type(entries, i),
                                opt(conveyor_config_entries_documentation(entries, i)), synonyms));
    }
    return out;
  }

  // ops: [(name, op (0 set, 1 delete, 2 append, 3 subtract), value|None)]
  void alter_configs(int resource_type, const std::string& name,
                     const std::vector<std::tuple<std::string, int, std::optional<std::string>>>& ops,
                     bool validate_only, int32_t timeout_ms) {
    std::vector<conveyor_alter_config_op_t> c_ops;
    for (const auto& [key, op, value] : ops)
      c_ops.push_back(conveyor_alter_config_op_t{key.c_str(), op, value ? value->c_str() : nullptr});
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();  // may raise: needs the GIL
      NoGil nogil;
      rc = conveyor_admin_alter_configs(handle, resource_type, name.c_str(), c_ops.data(), c_ops.size(),
                                        validate_only ? 1 : 0, timeout_ms, &err);
    }
    check(rc, err);
  }

  void create_partitions(const std::string& topic, int32_t total_count, bool validate_only, int32_t timeout_ms) {
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();  // may raise: needs the GIL
      NoGil nogil;
      rc = conveyor_admin_create_partitions(handle, topic.c_str(), total_count, validate_only ? 1 : 0, timeout_ms, &err);
    }
    check(rc, err);
  }

  // ---- consumer groups and offsets (tuples/dicts; conveyor/client.py builds the types) ----

  // [(topic, partition)] → [offset] (spec -1 latest, -2 earliest, >= 0 timestamp ms).
  std::vector<int64_t> list_offsets(const std::vector<std::tuple<std::string, int32_t>>& partitions, int64_t spec,
                                    int32_t timeout_ms) {
    std::vector<conveyor_topic_partition_t> tps;
    for (const auto& [topic, partition] : partitions) tps.push_back(conveyor_topic_partition_t{topic.c_str(), partition, -1});
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();  // may raise: needs the GIL
      NoGil nogil;
      rc = conveyor_admin_list_offsets(handle, tps.data(), tps.size(), spec, timeout_ms, &err);
    }
    check(rc, err);
    std::vector<int64_t> out;
    for (const auto& tp : tps) out.push_back(tp.offset);
    return out;
  }

  // [(topic, partition, offset)] → [low watermark] (DeleteRecords; offset -1 = high watermark).
  std::vector<int64_t> delete_records(const std::vector<std::tuple<std::string, int32_t, int64_t>>& partitions,
                                      int32_t timeout_ms) {
    std::vector<conveyor_topic_partition_t> tps;
    for (const auto& [topic, partition, offset] : partitions)
      tps.push_back(conveyor_topic_partition_t{topic.c_str(), partition, offset});
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();  // may raise: needs the GIL
      NoGil nogil;
      rc = conveyor_admin_delete_records(handle, tps.data(), tps.size(), timeout_ms, &err);
    }
    check(rc, err);
    std::vector<int64_t> out;
    for (const auto& tp : tps) out.push_back(tp.offset);
    return out;
  }

  // [(group_id, protocol_type, state)]
  std::vector<std::tuple<std::string, std::string, std::string>> list_groups(const std::vector<std::string>& states,
                                                                             int32_t timeout_ms) {
    std::vector<const char*> ptrs;
    for (const auto& st : states) ptrs.push_back(st.c_str());
    conveyor_group_list_t* list = nullptr;
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();  // may raise: needs the GIL
      NoGil nogil;
      rc = conveyor_admin_list_groups(handle, ptrs.data(), ptrs.size(), timeout_ms, &list, &err);
    }
    check(rc, err);
    std::vector<std::tuple<std::string, std::string, std::string>> out;
    for (size_t i = 0; i < conveyor_group_list_count(list); ++i)
      out.emplace_back(conveyor_group_list_group_id(list, i), conveyor_group_list_protocol_type(list, i),
                       conveyor_group_list_state(list, i));
    conveyor_group_list_destroy(list);
    return out;
  }

  py::dict describe_group(const std::string& group, int32_t timeout_ms) {
    conveyor_group_description_t* desc = nullptr;
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();  // may raise: needs the GIL
      NoGil nogil;
      rc = conveyor_admin_describe_group(handle, group.c_str(), timeout_ms, &desc, &err);
    }
    check(rc, err);
    py::dict out;
    try {
      out = description_to_python(desc);
    } catch (...) {
      conveyor_group_description_destroy(desc);
      throw;
    }
    conveyor_group_description_destroy(desc);
    return out;
  }

  // [(topic, partition, offset, leader_epoch, metadata, error)]; partitions None = all committed.
  std::vector<std::tuple<std::string, int32_t, int64_t, int32_t, std::string, int>> list_group_offsets(
      const std::string& group, const std::optional<std::vector<std::tuple<std::string, int32_t>>>& partitions,
      int32_t timeout_ms) {
    std::vector<conveyor_topic_partition_t> tps;
    if (partitions)
      for (const auto& [topic, partition] : *partitions)
        tps.push_back(conveyor_topic_partition_t{topic.c_str(), partition, -1});
    std::vector<std::tuple<std::string, int32_t, int64_t, int32_t, std::string, int>> out;
    if (partitions && partitions->empty()) return out;
    conveyor_group_offsets_t* offsets = nullptr;
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();  // may raise: needs the GIL
      NoGil nogil;
      rc = conveyor_admin_list_group_offsets(handle, group.c_str(), tps.data(), tps.size(), timeout_ms, &offsets, &err);
    }
    check(rc, err);
    for (size_t i = 0; i < conveyor_group_offsets_count(offsets); ++i)
      out.emplace_back(conveyor_group_offsets_topic(offsets, i), conveyor_group_offsets_partition(offsets, i),
                       conveyor_group_offsets_offset(offsets, i), conveyor_group_offsets_leader_epoch(offsets, i),
                       conveyor_group_offsets_metadata(offsets, i), conveyor_group_offsets_error(offsets, i));
    conveyor_group_offsets_destroy(offsets);
    return out;
  }

  // (description dict, [(topic, partition, current, log_end, lag, consumer_id, host, client_id, error)])
  py::tuple group_lag(const std::string& group, int32_t timeout_ms) {
    conveyor_group_lag_t* lag = nullptr;
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();  // may raise: needs the GIL
      NoGil nogil;
      rc = conveyor_admin_group_lag(handle, group.c_str(), timeout_ms, &lag, &err);
    }
    check(rc, err);
    py::list rows;
    py::dict desc;
    try {
      desc = description_to_python(conveyor_group_lag_group(lag));
      for (size_t i = 0; i < conveyor_group_lag_count(lag); ++i)
        rows.append(py::make_tuple(conveyor_group_lag_topic(lag, i), conveyor_group_lag_partition(lag, i),
                                   conveyor_group_lag_current_offset(lag, i), conveyor_group_lag_log_end_offset(lag, i),
                                   conveyor_group_lag_lag(lag, i), conveyor_group_lag_consumer_id(lag, i),
                                   conveyor_group_lag_host(lag, i), conveyor_group_lag_client_id(lag, i),
                                   conveyor_group_lag_error(lag, i)));
    } catch (...) {
      conveyor_group_lag_destroy(lag);
      throw;
    }
    conveyor_group_lag_destroy(lag);
    return py::make_tuple(desc, rows);
  }

  void alter_group_offsets(const std::string& group,
                           const std::vector<std::tuple<std::string, int32_t, int64_t>>& offsets, int32_t timeout_ms) {
    std::vector<conveyor_topic_partition_t> tps;
    for (const auto& [topic, partition, offset] : offsets)
      tps.push_back(conveyor_topic_partition_t{topic.c_str(), partition, offset});
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();  // may raise: needs the GIL
      NoGil nogil;
      rc = conveyor_admin_alter_group_offsets(handle, group.c_str(), tps.data(), tps.size(), timeout_ms, &err);
    }
    check(rc, err);
  }

  void delete_group(const std::string& group, int32_t timeout_ms) {
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc;
    {
      auto* handle = live();  // may raise: needs the GIL
      NoGil nogil;
      rc = conveyor_admin_delete_group(handle, group.c_str(), timeout_ms, &err);
    }
    check(rc, err);
  }

  static py::dict description_to_python(const conveyor_group_description_t* d) {
    py::list members;
    for (size_t m = 0; m < conveyor_group_description_member_count(d); ++m) {
      py::list assignment;
      for (size_t i = 0; i < conveyor_group_description_member_partition_count(d, m); ++i) {
        const char* topic = nullptr;
        int32_t partition = -1;
        conveyor_group_description_member_partition(d, m, i, &topic, &partition);
        assignment.append(py::make_tuple(topic, partition));
      }
      const char* instance = conveyor_group_description_member_instance_id(d, m);
      py::dict member;
      member["member_id"] = conveyor_group_description_member_id(d, m);
      member["group_instance_id"] = instance ? py::object(py::str(instance)) : py::object(py::none());
      member["client_id"] = conveyor_group_description_member_client_id(d, m);
      member["host"] = conveyor_group_description_member_host(d, m);
      member["assignment"] = assignment;
      members.append(member);
    }
    py::dict out;
    out["group_id"] = conveyor_group_description_group_id(d);
    out["state"] = conveyor_group_description_state(d);
    out["protocol_type"] = conveyor_group_description_protocol_type(d);
    out["protocol"] = conveyor_group_description_protocol(d);
    out["coordinator"] = conveyor_group_description_coordinator(d);
    out["members"] = members;
    return out;
  }

  void close() {
    if (!admin_) return;
    conveyor_admin_t* a = admin_;
    admin_ = nullptr;
    NoGil nogil;
    conveyor_admin_destroy(a);
  }

 private:
  conveyor_admin_t* live() const {
    if (!admin_)
      raise_error(CONVEYOR_ERR__STATE, conveyor_err_name(CONVEYOR_ERR__STATE), "the admin client is closed", false, false);
    return admin_;
  }
  conveyor_admin_t* admin_ = nullptr;
};

}  // namespace

// ---- retry and dead-letter handler ------------------------------------------------------

// conveyor_retry_handler_* over a Consumer and a Producer of this module. The Python handler
// gets a Record; an Exception it raises fails that attempt (str(exc) becomes the dead-letter
// error header). A BaseException that is not an Exception (KeyboardInterrupt, SystemExit)
// stops the handler and is raised from run(). run() goes into the C loop in slices so Ctrl-C
// is noticed between them.
class RetryHandler {
 public:
  RetryHandler(Consumer& consumer, Producer& producer, const std::map<std::string, std::string>& config)
  {  // py::keep_alive (below) keeps consumer and producer alive as long as the handler
    Config conf(config);
    conveyor_error_t* err = nullptr;
    conveyor_err_t rc = conveyor_retry_handler_new(consumer.native(), producer.native(), conf.conf, &handler_, &err);
    check(rc, err);
  }
  ~RetryHandler() { conveyor_retry_handler_destroy(handler_); }

  // Returns (records, succeeded, retries, dead_lettered, commits, commit_failures) of this run.
  std::tuple<uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t> run(py::object handler,
                                                                                const py::object& timeout) {
    if (!PyCallable_Check(handler.ptr())) throw py::type_error("handler must be callable");
    if (stopped_)  // stop() is sticky, as in the C ABI
      raise_error(CONVEYOR_ERR__STATE, conveyor_err_name(CONVEYOR_ERR__STATE), "the retry handler was stopped", false,
                  false);
    handler_fn_ = handler;
    conveyor_retry_stats_t total{};
    Deadline deadline(to_ms(timeout));
    for (;;) {
      int32_t slice = deadline.slice();
      conveyor_retry_stats_t st{};
      conveyor_error_t* err = nullptr;
      conveyor_err_t rc;
      {
        NoGil nogil;
        rc = conveyor_retry_handler_run(handler_, &RetryHandler::trampoline, this, slice, &st, &err);
      }
      total.records += st.records;
      total.succeeded += st.succeeded;
      total.retries += st.retries;
      total.dead_lettered += st.dead_lettered;
      total.commits += st.commits;
      total.commit_failures += st.commit_failures;
      if (fatal_) {
        conveyor_error_destroy(err);
        py::object exc = std::move(*fatal_);
        fatal_.reset();
        handler_fn_ = py::none();
        PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
        throw py::error_already_set();
      }
      if (rc == CONVEYOR_ERR__STATE && stopped_) {  // stop() from another thread: a normal end
        conveyor_error_destroy(err);
        break;
      }
      check(rc, err);
      if (slice == 0 || stopped_) break;
      check_signals();
    }
    handler_fn_ = py::none();
    return {total.records, total.succeeded, total.retries, total.dead_lettered, total.commits, total.commit_failures};
  }

  void stop() {
    stopped_ = true;
    conveyor_retry_handler_stop(handler_);
  }

  std::tuple<uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t> stats() const {
    conveyor_retry_stats_t st{};
    conveyor_retry_handler_stats(handler_, &st);
    return {st.records, st.succeeded, st.retries, st.dead_lettered, st.commits, st.commit_failures};
  }

 private:
  static int trampoline(const conveyor_message_t* msg, char* errbuf, size_t errbuf_size, void* opaque) {
    auto* self = static_cast<RetryHandler*>(opaque);
    if (interpreter_finalizing() && PyThread_get_thread_ident() != g_main_thread_ident) return 1;
    py::gil_scoped_acquire gil;
    auto reason = [&](const std::string& text) {
      std::snprintf(errbuf, errbuf_size, "%s", text.c_str());
      return 1;
    };
    if (self->fatal_) return reason("stopped");
    try {
      self->handler_fn_(make_record(msg));
      return 0;
    } catch (py::error_already_set& e) {
      if (!e.matches(PyExc_Exception)) {  // KeyboardInterrupt, SystemExit, ...: stop and re-raise
        self->fatal_ = e.value();
        self->stopped_ = true;
        conveyor_retry_handler_stop(self->handler_);
        return reason("stopped");
      }
      std::string text = py::str(e.value());
      std::string type = py::str(py::handle(reinterpret_cast<PyObject*>(Py_TYPE(e.value().ptr()))).attr("__name__"));
      return reason(text.empty() ? type : type + ": " + text);
    } catch (const std::exception& e) {
      return reason(std::string("conveyor: ") + e.what());
    }
  }

  conveyor_retry_handler_t* handler_ = nullptr;
  py::object handler_fn_ = py::none();
  std::optional<py::object> fatal_;
  std::atomic<bool> stopped_{false};
};

PYBIND11_MODULE(_conveyor, m) {
  g_main_thread_ident = py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  m.doc() = "Native layer of the conveyor package (pybind11 over libconveyor's C ABI).";
  m.attr("OFFSET_BEGINNING") = CONVEYOR_OFFSET_BEGINNING;
  m.attr("OFFSET_END") = CONVEYOR_OFFSET_END;
  m.attr("OFFSET_INVALID") = CONVEYOR_OFFSET_INVALID;
  m.attr("PARTITION_ANY") = CONVEYOR_PARTITION_ANY;
  m.def("version", [] { return std::string(conveyor_version()); }, "libconveyor's version, e.g. '0.1.0'.");
  m.def("err_name", [](int code) { return std::string(conveyor_err_name(code)); });
  m.def("err_retriable", [](int code) { return conveyor_err_retriable(code) != 0; });
  m.def(
      "_register", [](py::object error_factory) { g_error_factory = std::move(error_factory); },
      "Installs the KafkaError factory (called by conveyor/__init__.py).");
  m.def(
      "check_config",
      [](const std::map<std::string, std::string>& config) { Config c(config); },
      "Raises InvalidConfigError if any key is unknown to every conveyor component.");
  g_record_struct = PyStructSequence_NewType(&kRecordDesc);
  if (!g_record_struct) throw py::error_already_set();
  m.attr("Record") = py::reinterpret_steal<py::object>(reinterpret_cast<PyObject*>(g_record_struct));
  Py_INCREF(g_record_struct);  // the module attribute and g_record_struct each hold one
  // Drop the registered factory before the interpreter finalizes.
  auto atexit = py::module_::import("atexit");
  atexit.attr("register")(py::cpp_function([]() { g_error_factory = py::object(); }));

  py::class_<Broker>(m, "Broker")
      .def(py::init<const std::map<std::string, std::string>&>(), py::arg("config"))
      .def_property_readonly("bootstrap_servers", &Broker::bootstrap_servers)
      .def_property_readonly("port", &Broker::port)
      .def_property_readonly("data_dir", &Broker::data_dir)
      .def_property_readonly("running", &Broker::running)
      .def("stop", &Broker::stop);

  py::class_<Producer>(m, "Producer")
      .def(py::init<const std::map<std::string, std::string>&>(), py::arg("config"))
      .def("produce", &Producer::produce, py::arg("topic"), py::arg("value") = py::none(),
           py::arg("key") = py::none(), py::arg("partition") = -1, py::arg("headers") = py::none(),
           py::arg("timestamp") = 0, py::arg("on_delivery") = py::none())
      .def("poll", &Producer::poll, py::arg("timeout") = py::none())
      .def("flush", &Producer::flush, py::arg("timeout") = py::none())
      .def("outstanding", &Producer::outstanding)
      .def("delivery_counts", &Producer::delivery_counts)
      .def("close", &Producer::close, py::arg("timeout") = py::none());

  py::class_<Consumer>(m, "Consumer")
      .def(py::init<const std::map<std::string, std::string>&>(), py::arg("config"))
      .def("assign", &Consumer::assign, py::arg("partitions"))
      .def("seek", &Consumer::seek, py::arg("topic"), py::arg("partition"), py::arg("offset"))
      .def("poll", &Consumer::poll, py::arg("timeout") = py::none())
      .def("consume", &Consumer::consume, py::arg("max_records") = 500, py::arg("timeout") = py::none())
      .def("position", &Consumer::position, py::arg("topic"), py::arg("partition"))
      .def("watermark_offsets", &Consumer::watermark_offsets, py::arg("topic"), py::arg("partition"),
           py::arg("timeout") = py::none())
      .def("offsets_for_times", &Consumer::offsets_for_times, py::arg("partitions"), py::arg("timeout") = py::none())
      .def("pause", &Consumer::pause, py::arg("partitions"))
      .def("resume", &Consumer::resume, py::arg("partitions"))
      .def("paused", &Consumer::paused)
      .def("wakeup", &Consumer::wakeup)
      .def("close", &Consumer::close)
      .def_property_readonly("closed", &Consumer::closed)
      // consumer groups
      .def("set_rebalance_callback", &Consumer::set_rebalance_callback, py::arg("callback"))
      .def("set_commit_callback", &Consumer::set_commit_callback, py::arg("callback"))
      .def("subscribe", &Consumer::subscribe, py::arg("topics"))
      .def("subscribe_pattern", &Consumer::subscribe_pattern, py::arg("regex"))
      .def("unsubscribe", &Consumer::unsubscribe)
      .def("assignment", &Consumer::assignment)
      .def("subscription", &Consumer::subscription)
      .def("commit", &Consumer::commit, py::arg("offsets") = py::none(), py::arg("asynchronous") = false,
           py::arg("timeout") = py::none())
      .def("committed", &Consumer::committed, py::arg("partitions"), py::arg("timeout") = py::none())
      .def("lag", &Consumer::lag, py::arg("topic"), py::arg("partition"), py::arg("timeout") = py::none())
      .def("group_member", &Consumer::group_member);

  py::class_<RetryHandler>(m, "RetryHandler")
      .def(py::init<Consumer&, Producer&, const std::map<std::string, std::string>&>(), py::arg("consumer"),
           py::arg("producer"), py::arg("config"), py::keep_alive<1, 2>(), py::keep_alive<1, 3>())
      .def("run", &RetryHandler::run, py::arg("handler"), py::arg("timeout") = py::none())
      .def("stop", &RetryHandler::stop)
      .def("stats", &RetryHandler::stats);

  py::class_<Admin>(m, "Admin")
      .def(py::init<const std::map<std::string, std::string>&>(), py::arg("config"))
      .def("create_topic", &Admin::create_topic, py::arg("name"), py::arg("partitions"),
           py::arg("replication_factor"), py::arg("config"), py::arg("timeout_ms"))
      .def("delete_topic", &Admin::delete_topic, py::arg("name"), py::arg("timeout_ms"))
      .def("describe_topics", &Admin::describe_topics, py::arg("names"), py::arg("timeout_ms"))
      .def("list_offsets", &Admin::list_offsets, py::arg("partitions"), py::arg("spec"), py::arg("timeout_ms"))
      .def("delete_records", &Admin::delete_records, py::arg("partitions"), py::arg("timeout_ms"))
      .def("list_groups", &Admin::list_groups, py::arg("states"), py::arg("timeout_ms"))
      .def("describe_group", &Admin::describe_group, py::arg("group"), py::arg("timeout_ms"))
      .def("list_group_offsets", &Admin::list_group_offsets, py::arg("group"), py::arg("partitions"),
           py::arg("timeout_ms"))
      .def("group_lag", &Admin::group_lag, py::arg("group"), py::arg("timeout_ms"))
      .def("alter_group_offsets", &Admin::alter_group_offsets, py::arg("group"), py::arg("offsets"),
           py::arg("timeout_ms"))
      .def("delete_group", &Admin::delete_group, py::arg("group"), py::arg("timeout_ms"))
      .def("describe_configs", &Admin::describe_configs, py::arg("resource_type"), py::arg("name"), py::arg("keys"),
           py::arg("timeout_ms"))
      .def("alter_configs", &Admin::alter_configs, py::arg("resource_type"), py::arg("name"), py::arg("ops"),
           py::arg("validate_only"), py::arg("timeout_ms"))
      .def("create_partitions", &Admin::create_partitions, py::arg("topic"), py::arg("total_count"),
           py::arg("validate_only"), py::arg("timeout_ms"))
      .def("close", &Admin::close);
}
