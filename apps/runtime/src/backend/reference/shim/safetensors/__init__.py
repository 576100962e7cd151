# Stand-in for the safetensors package (not packaged in Debian bookworm): diffusers' modeling code imports it at
# module level. Only `safetensors.torch.load_file` is implemented (numpy reader, see torch.py); the script loads
# weights with it and `load_state_dict`, never through from_pretrained.
__version__ = "0.0.0-shim"


class SafetensorError(Exception):
    pass
