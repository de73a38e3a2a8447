"""rehabflow: the command line (``rehabflow.cli``) and the services both front ends use (``rehabflow.services``).

The model packages (``scenarios``, ``optimizer``, ``sim``) know nothing of this package; the Streamlit
dashboard (``dashboard``) imports ``rehabflow.services`` and never the CLI.
"""
