# Stand-in for huggingface_hub (not packaged in Debian bookworm). diffusers' scheduler code imports it only for
# hub download/upload helpers and constants that schedulers built from a config dict never call. Any name
# imported from it is a placeholder; nothing here takes part in scheduler arithmetic.
import sys, types

class _Placeholder:
    def __init__(self, *a, **k): pass
    def __call__(self, *a, **k):
        if a and callable(a[0]) and len(a) == 1 and not k: return a[0]  # used as a decorator
        return None
    def __getattr__(self, name): return _Placeholder()
    def __mro_entries__(self, bases): return (object,)

class _Module(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith('__'): raise AttributeError(name)
        if name == 'HF_HOME': return '/tmp/hf-home'
        if name in ('HF_HUB_OFFLINE', 'HF_HUB_DISABLE_TELEMETRY'): return True
        if name == 'REGEX_COMMIT_HASH':
            import re; return re.compile(r'^[0-9a-f]{40}$')
        if name == '__version__': return '0.0.0'
        if name.endswith('Error') or name.endswith('Exception'):
            return type(name, (Exception,), {})
        return _Placeholder()

class _Finder:
    def find_module(self, fullname, path=None):
        return self if fullname.startswith('huggingface_hub.') else None
    def load_module(self, fullname):
        m = sys.modules.get(fullname) or _Module(fullname)
        m.__path__ = []
        sys.modules[fullname] = m
        return m
    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith('huggingface_hub.'): return None
        import importlib.util
        return importlib.util.spec_from_loader(fullname, self)
    def create_module(self, spec):
        m = _Module(spec.name); m.__path__ = []; return m
    def exec_module(self, module): pass

sys.meta_path.insert(0, _Finder())
sys.modules[__name__].__class__ = _Module
__version__ = '0.0.0-shim'
