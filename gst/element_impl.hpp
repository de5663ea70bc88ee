#pragma once
// The one shape of every slipstream element (as gst-plugins-rs writes them):
// the C++ members live in an `Impl` kept in GObject's instance-private data,
// with the properties (`Settings`) and the streaming data (`State`) each
// behind its own mutex, so reading or setting a property never waits for a
// streaming thread's work.
//
//   struct Impl {
//       ssgst::Guarded<Settings> settings;
//       ssgst::Guarded<State> state;
//   };
//   SS_DEFINE_ELEMENT(SsTiler, ss_tiler, Impl)
//
// SS_DEFINE_ELEMENT defines the GType, `impl(self)`, `construct_impl(self)`
// (call it first in _init) and `init_class(klass, {...})` for class_init,
// which also installs a finalize that destroys the Impl.
#include <gst/gst.h>

#include <initializer_list>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

namespace ssgst {

// A value and the mutex that guards it.
template <typename T>
struct Guarded {
    mutable std::mutex lock;
    T value;

    // A copy taken under the lock: what a streaming thread works with, so it
    // never holds the lock while it works.
    T copy() const {
        std::lock_guard guard(lock);
        return value;
    }
};

// GObject memory is zeroed C memory, never C++-constructed: the Impl is built
// in place in _init and destroyed in finalize.
template <typename Impl>
void construct_in(gpointer memory) {
    // GLib aligns private data to 2 * sizeof(gsize); an Impl needing more would be misplaced.
    static_assert(alignof(Impl) <= 2 * sizeof(gsize), "Impl needs more alignment than GObject private data has");
    new (memory) Impl();
}

template <typename Impl>
void destroy_in(gpointer memory) {
    std::destroy_at(static_cast<Impl*>(memory));
}

// Property flags, named once.
constexpr auto readable = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
constexpr auto read_write = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
// Settings taken when the element starts: changing them later has no effect until a restart.
constexpr auto read_write_in_ready = static_cast<GParamFlags>(read_write | GST_PARAM_MUTABLE_READY);

// What every element's class_init sets alike. Properties get ids 1, 2, ... in
// the order listed, so an element's `enum { PROP_0, ... }` must list them in
// the same order.
struct ElementClassInfo {
    const char* long_name;
    const char* classification;
    const char* description;
    std::initializer_list<GstStaticPadTemplate*> pad_templates;
    std::initializer_list<GParamSpec*> properties;
    GObjectSetPropertyFunc set_property = nullptr;
    GObjectGetPropertyFunc get_property = nullptr;
    GstStateChangeReturn (*change_state)(GstElement*, GstStateChange) = nullptr;  // null: GstElement's
    // The element's debug category, named after it, described by long_name.
    GstDebugCategory** debug = nullptr;
    const char* debug_name = nullptr;
};

inline void init_element_class(gpointer klass, const ElementClassInfo& info, void (*finalize)(GObject*)) {
    auto* object_class = G_OBJECT_CLASS(klass);
    auto* element_class = GST_ELEMENT_CLASS(klass);
    object_class->set_property = info.set_property;
    object_class->get_property = info.get_property;
    object_class->finalize = finalize;
    if (info.change_state) element_class->change_state = info.change_state;
    // g_object_class_install_properties() takes id 0 as unused: the first entry stays null.
    std::vector<GParamSpec*> specs{nullptr};
    specs.insert(specs.end(), info.properties.begin(), info.properties.end());
    if (specs.size() > 1) g_object_class_install_properties(object_class, static_cast<guint>(specs.size()), specs.data());
    for (GstStaticPadTemplate* templ : info.pad_templates) gst_element_class_add_static_pad_template(element_class, templ);
    gst_element_class_set_static_metadata(element_class, info.long_name, info.classification, info.description, "slipstream");
    if (info.debug) GST_DEBUG_CATEGORY_INIT(*info.debug, info.debug_name, 0, info.long_name);
}

// An always pad from its template, with the functions given, added to the element.
struct PadFunctions {
    GstPadChainFunction chain = nullptr;
    GstPadEventFunction event = nullptr;
    GstPadQueryFunction query = nullptr;
    bool proxy_caps = false;  // caps queries and allocation pass through to the other side
    bool fixed_caps = false;
};

inline GstPad* add_pad(GstElement* element, GstStaticPadTemplate* templ, const PadFunctions& functions) {
    GstPad* pad = gst_pad_new_from_static_template(templ, templ->name_template);
    if (functions.chain) gst_pad_set_chain_function(pad, functions.chain);
    if (functions.event) gst_pad_set_event_function(pad, functions.event);
    if (functions.query) gst_pad_set_query_function(pad, functions.query);
    if (functions.proxy_caps) GST_PAD_SET_PROXY_CAPS(pad);
    if (functions.fixed_caps) gst_pad_use_fixed_caps(pad);
    gst_element_add_pad(element, pad);
    return pad;
}

// Answers a caps query with `caps` (taken) as narrowed by the query's filter.
inline void answer_caps_query(GstQuery* query, GstCaps* caps) {
    GstCaps* filter = nullptr;
    gst_query_parse_caps(query, &filter);
    if (filter) {
        GstCaps* both = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref(caps);
        caps = both;
    }
    gst_query_set_caps_result(query, caps);
    gst_caps_unref(caps);
}

}  // namespace ssgst

// G_DEFINE_TYPE_WITH_PRIVATE (a GstElement) whose private data is the C++ ImplType.
#define SS_DEFINE_ELEMENT(TypeName, type_name, ImplType) \
    SS_DEFINE_ELEMENT_WITH_PARENT(TypeName, type_name, ImplType, GST_TYPE_ELEMENT)

// The same for a subclass of another element class (e.g. GST_TYPE_BASE_TRANSFORM).
#define SS_DEFINE_ELEMENT_WITH_PARENT(TypeName, type_name, ImplType, PARENT_TYPE)         \
    using TypeName##Private = ImplType;                                                   \
    G_DEFINE_TYPE_WITH_PRIVATE(TypeName, type_name, PARENT_TYPE)                          \
    [[maybe_unused]] static ImplType& impl(TypeName* self) {                              \
        return *static_cast<ImplType*>(type_name##_get_instance_private(self));           \
    }                                                                                     \
    static void construct_impl(TypeName* self) {                                          \
        ssgst::construct_in<ImplType>(type_name##_get_instance_private(self));            \
    }                                                                                     \
    static void type_name##_finalize(GObject* object) {                                   \
        ssgst::destroy_in<ImplType>(type_name##_get_instance_private(reinterpret_cast<TypeName*>(object))); \
        G_OBJECT_CLASS(type_name##_parent_class)->finalize(object);                       \
    }                                                                                     \
    static void init_class(TypeName##Class* klass, const ssgst::ElementClassInfo& info) { \
        ssgst::init_element_class(klass, info, type_name##_finalize);                      \
    }
